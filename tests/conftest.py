"""Shared tiny models and configs for the tests (small shapes keep CPU compile times low).

The suite runs with 4 host CPU devices (for the data-parallel tests), the command lines' XLA:CPU
flags (:mod:`slot_jax.lib.xla_cpu`) and a persistent XLA compilation cache, so repeated training
runs of the same tiny config compile once.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
).strip()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from slot_jax.lib import xla_cpu  # noqa: E402

xla_cpu.apply()

import jax  # noqa: E402
import pytest  # noqa: E402

import slot_jax  # noqa: E402
from slot_jax.config_base import load_config  # noqa: E402

REPO = Path(__file__).parents[1]


def start_command(module: str, *args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    """``python -m <module> <args>`` from the repository (``src`` on the path), text stdout and
    stderr piped unless ``popen`` says otherwise; ``env`` (default: this process's) gets the path
    added."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    popen = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=REPO, env=env, text=True,
                            **popen)


jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="slot_jax_xla_cache_"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def tiny_clevr_config(num_slots: int = 3):
    """CLEVR architecture (strided transposed decoder), shrunk: 2x2 broadcast -> 16x16."""
    cfg = slot_jax.clevr_model_config(num_slots)
    cfg.image_size = (16, 16)
    cfg.slot_size = 16
    cfg.slot_attention.mlp_hidden_size = 16
    cfg.encoder.features = (8, 8)
    cfg.encoder.strides = (1, 1)
    cfg.encoder.mlp_features = (16, 16)
    cfg.decoder.broadcast_size = (2, 2)
    cfg.decoder.features = (8, 8, 8, 8)
    cfg.decoder.strides = (2, 2, 2, 1)
    return cfg


def tiny_set_prediction_config(num_slots: int = 3):
    """Set-prediction model (encoder strides 1, 2; 19-d head), shrunk to 16x16."""
    cfg = slot_jax.set_prediction_model_config(num_slots)
    cfg.image_size = (16, 16)
    cfg.slot_size = 16
    cfg.slot_attention.mlp_hidden_size = 16
    cfg.encoder.features = (8, 8)
    cfg.encoder.strides = (1, 2)
    cfg.encoder.mlp_features = (16, 16)
    cfg.head.features = (16, cfg.head.features[-1])
    return cfg


def tiny_sprites_config(num_slots: int = 3):
    """Sprites architecture (full-resolution broadcast, stride-1 convs), shrunk to 12x12."""
    cfg = slot_jax.sprites_model_config(num_slots, (12, 12))
    cfg.slot_size = 16
    cfg.slot_attention.mlp_hidden_size = 16
    cfg.encoder.features = (8, 8)
    cfg.encoder.strides = (1, 1)
    cfg.encoder.mlp_features = (16, 16)
    cfg.decoder.features = (8, 8)
    cfg.decoder.strides = (1, 1)
    return cfg


def init_model(cfg, batch: int = 2, dtype: str = "float32"):
    model = slot_jax.build_model(cfg, dtype)
    h, w = cfg.image_size
    shape = (batch, h, w, cfg.num_channels)
    image = jax.random.uniform(jax.random.key(3), shape, minval=-1, maxval=1)
    variables = model.init({"params": jax.random.key(0), "slots": jax.random.key(1)}, image)
    return model, variables, image


@pytest.fixture(scope="session", params=["clevr", "sprites"])
def tiny_model(request):
    cfg = tiny_clevr_config() if request.param == "clevr" else tiny_sprites_config()
    return (cfg, *init_model(cfg))


@pytest.fixture(scope="session")
def tfds_dir(tmp_path_factory):
    """One TFDS data dir per test session: procedural datasets are generated once."""
    return str(tmp_path_factory.mktemp("tfds"))


def load_repo_config(name: str, data_dir: str):
    """``configs/<name>.py``'s ``get_config()``, with its data generated into ``data_dir``."""
    config = load_config(str(REPO / "configs" / f"{name}.py"))
    config.data.data_dir = data_dir
    return config


LEARNING_TIMEOUT_S = 45 * 60  # a guard against a hung process, not a speed check


def train_learning_seeds(name: str, data_dir: str, workdir: str):
    """Trains ``configs/<name>.py`` on its ``learning_test_seeds`` (or the seeds in the
    ``LEARNING_TEST_SEEDS`` environment variable, e.g. ``7,8``), one ``python -m slot_jax.main``
    process per core (:func:`slot_jax.commands.seeds.run_seeds`); returns the config, the seeds
    and each seed's held-out curve."""
    from slot_jax.commands.seeds import run_seeds

    config = load_repo_config(name, data_dir)
    chosen = os.environ.get("LEARNING_TEST_SEEDS")
    seeds = [int(s) for s in chosen.split(",")] if chosen else list(config.learning_test_seeds)
    curves = run_seeds(
        str(REPO / "configs" / f"{name}.py"), workdir, seeds,
        overrides=[f"--config.data.data_dir={data_dir}"], timeout_s=LEARNING_TIMEOUT_S,
    )
    return config, seeds, curves


def tiny_train_config(data_dir: str, **overrides):
    """configs/debug.py shrunk further: 16x16 images, 8-channel convs, a few steps."""
    config = load_repo_config("debug", data_dir)
    config.data.image_size = (16, 16)
    config.model.image_size = (16, 16)
    config.model.decoder.broadcast_size = (16, 16)
    config.model.slot_size = 16
    config.model.slot_attention.mlp_hidden_size = 16
    config.model.encoder.features = (8, 8)
    config.model.encoder.mlp_features = (16, 16)
    config.model.decoder.features = (8,)
    config.model.decoder.strides = (1,)
    config.batch_size = 8
    config.num_train_steps = 4
    config.log_every = 1
    config.checkpoint_every = 2
    config.image_log_every = 0
    config.eval_every = 0
    config.update(overrides)
    return config


def _leaves(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_leaves(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def tiny_train_flags(data_dir: str, **overrides) -> list[str]:
    """:func:`tiny_train_config` as ``slot_jax.main`` flags: ``--config=configs/debug.py`` and a
    ``--config.<key>=<value>`` for each entry it changes."""
    base = _leaves(load_repo_config("debug", data_dir).to_dict())
    tiny = _leaves(tiny_train_config(data_dir, **overrides).to_dict())
    return ["--config=configs/debug.py", f"--config.data.data_dir={data_dir}"] + [
        f"--config.{key}={value}" for key, value in tiny.items() if base.get(key) != value
    ]


def tiny_set_prediction_train_config(data_dir: str, **overrides):
    """:func:`tiny_train_config` on procedural CLEVR set prediction (4 train, 3 held-out images)."""
    config = tiny_train_config(data_dir, **overrides)
    config.data.name = "procedural_clevr"
    config.data.num_train, config.data.num_eval = 4, 3
    config.data.crop = False
    config.data.targets = "set_prediction"
    config.model = tiny_set_prediction_config(num_slots=10)
    return config


def assert_close_to_scale(a, b, tol: float, per_leaf: bool = True) -> None:
    """Each leaf of ``a`` within ``tol`` x the largest magnitude of its leaf in ``b`` (or, with
    ``per_leaf=False``, of all of ``b``: for sums with cancellation, such as a bias gradient)."""
    leaves = jax.tree.leaves(b)
    overall = max(float(jax.numpy.max(jax.numpy.abs(v))) for v in leaves)
    for u, v in zip(jax.tree.leaves(a), leaves, strict=True):
        assert u.shape == v.shape and u.dtype == v.dtype, (u.shape, u.dtype, v.shape, v.dtype)
        scale = (float(jax.numpy.max(jax.numpy.abs(v))) if per_leaf else overall) or 1.0
        assert float(jax.numpy.max(jax.numpy.abs(u - v))) <= tol * scale, (u.shape, scale)
