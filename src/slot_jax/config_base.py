"""What the configs in ``configs/`` build on: the data section, the paper's training setups, a loader.

A config file imports these plainly (``from slot_jax.config_base import base_config, data_config``)
and adjusts the result; :func:`load_config` reads a config file with command-line style overrides.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import ml_collections
from ml_collections.config_dict import placeholder

from slot_jax.models.presets import (
    set_prediction_model_config,
    sprites_model_config,
    tiny_savi_model_config,
)


def data_config(name: str, image_size: tuple[int, int]) -> ml_collections.ConfigDict:
    """The ``config.data`` section.

    Fields: ``name`` (see :mod:`slot_jax.data.registry`), ``image_size`` (after crop/resize),
    ``data_dir`` (TFDS data dir; default ``~/tensorflow_datasets``), ``manual_dir`` (downloaded
    files of the DeepMind datasets), ``num_train``/``num_eval`` (procedural sizes; default: the
    builder's), ``max_objects`` (keep images with at most this many objects, e.g. 6 for CLEVR6),
    ``shuffle_buffer``, ``cache`` (keep preprocessed examples in memory), ``eval_examples``
    (evaluate on at most this many; default all), ``train_frames`` (videos: train on random windows
    of this many frames; default whole videos; evaluation reads whole videos), ``crop`` (apply the
    dataset's crop, e.g. CLEVR's; set prediction does not crop), ``targets`` (``"set_prediction"``
    adds the property targets, padded to ``max_set_size`` objects), ``source`` (``"tfds"``: the
    tf.data pipeline; ``"memory"``: procedural scenes generated into memory, no TensorFlow;
    ``"auto"``: ``"tfds"`` where TensorFlow is installed; see :mod:`slot_jax.data.iterators`).
    """
    cfg = ml_collections.ConfigDict()
    cfg.name = name
    cfg.image_size = image_size
    cfg.data_dir = placeholder(str)
    cfg.manual_dir = placeholder(str)
    cfg.num_train = placeholder(int)
    cfg.num_eval = placeholder(int)
    cfg.max_objects = placeholder(int)
    cfg.shuffle_buffer = 10_000
    cfg.cache = True
    cfg.eval_examples = placeholder(int)
    cfg.train_frames = placeholder(int)
    cfg.crop = True
    cfg.targets = placeholder(str)
    cfg.max_set_size = 10
    cfg.source = "auto"
    return cfg


def base_config(
    model: ml_collections.ConfigDict, data: ml_collections.ConfigDict
) -> ml_collections.ConfigDict:
    """The paper's object-discovery training setup around a model and data section."""
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.model = model
    config.data = data
    config.dtype = "float32"  # or "bfloat16" compute (params and loss stay float32)
    config.parallelism = "mesh"  # or "pmap"
    config.batch_size = 64
    config.num_train_steps = 500_000
    config.learning_rate = 4e-4
    config.schedule = "paper"  # or "warmup_cosine" (SAVi/ISA: decays to 0 at num_train_steps)
    config.warmup_steps = 10_000
    config.decay_steps = 100_000
    config.decay_rate = 0.5
    config.grad_clip_norm = 0.0  # 0 disables (paper); SAVi/ISA use 0.05
    config.on_nonfinite = "stop"  # or "skip"
    config.log_every = 100
    config.image_log_every = 5_000
    config.checkpoint_every = 5_000
    config.keep_checkpoints = 3
    config.eval_every = 25_000
    config.eval_batch_size = 64
    return config


def isa_training(
    config: ml_collections.ConfigDict, num_train_steps: int, warmup_steps: int,
    learning_rate: float = 4e-4,
) -> ml_collections.ConfigDict:
    """Invariant Slot Attention's training setup (Biza et al., 2023), in place: batch 64, Adam lr
    ``learning_rate`` (ISA: 4e-4) with a linear warm-up over ``warmup_steps`` then cosine decay to
    0 at ``num_train_steps``, global-norm clip 0.05. Returns ``config``."""
    config.batch_size = 64
    config.num_train_steps = num_train_steps
    config.learning_rate = learning_rate
    config.schedule = "warmup_cosine"
    config.warmup_steps = warmup_steps
    config.grad_clip_norm = 0.05
    return config


def savi_training(
    config: ml_collections.ConfigDict, num_train_steps: int, warmup_steps: int
) -> ml_collections.ConfigDict:
    """SAVi's training setup (Kipf et al., 2022), in place: ISA's (:func:`isa_training`) with lr
    2e-4; held-out videos are evaluated whole, in chunks of ``eval_slice_size`` frames carrying
    the slots over (unset: the whole video at once). Returns ``config``."""
    config.eval_slice_size = placeholder(int)
    return isa_training(config, num_train_steps, warmup_steps, learning_rate=2e-4)


def procedural_video_config(slot_init: str = "boxes") -> ml_collections.ConfigDict:
    """SAVi on small procedural videos, small enough for a CPU: 32x32 frames, 6 frames per video,
    2-3 sprites (``procedural_moving_sprites/tiny``, 1024 training and 64 held-out videos), K = 4
    slots (the background and up to 3 objects), initialised by ``slot_init`` (``"boxes"`` or
    ``"centres"``: conditioned on the first frame; ``"learned_queries"`` or ``"gaussian"``).

    Model: a small SAVi: 2 x Conv(32, 3x3) encoder at full resolution, slot size 64 (MLP 128),
    a 2-head predictor (qkv 64, MLP 128), decoder broadcast at 8x8 and upsampled twice
    (stride-2 3x3 transposed Conv(32)), as SAVi-S decodes from 8x8. Training: SAVi's
    (:func:`savi_training`) on whole 6-frame videos, batch 8, 2k steps, lr 2e-3, 300-step warm-up;
    ``learning_test_seeds`` are the seeds ``tests/test_video_learning.py`` trains.
    ``experiments/video/README.md`` has the runs behind these choices.
    """
    data = data_config("procedural_moving_sprites/tiny", (32, 32))
    data.num_train = 1024
    data.num_eval = 64
    model = tiny_savi_model_config(num_slots=4, slot_init=slot_init, image_size=(32, 32))
    model.slot_size = 64
    model.encoder.features = (32, 32)
    model.encoder.mlp_features = (32, 32)
    model.slot_attention.mlp_hidden_size = 128
    model.predictor.update(dict(qkv_size=64, mlp_size=128))
    model.decoder.update(dict(broadcast_size=(8, 8), features=(32, 32), strides=(2, 2)))
    config = savi_training(base_config(model, data), 2_000, warmup_steps=300)
    config.update(dict(batch_size=8, learning_rate=2e-3, log_every=100, checkpoint_every=500,
                       eval_every=1_000, eval_batch_size=32, learning_test_seeds=(0, 1)))
    return config


def set_prediction_config(dataset: str) -> ml_collections.ConfigDict:
    """The paper's CLEVR set prediction on ``dataset`` (``clevr`` or ``procedural_clevr``).

    K = 10 slots, encoder strides 1-2-2-1, no crop, targets padded to 10 objects, batch 512,
    150k steps, warm-up 1k steps, decay every 50k steps, evaluation every 10k steps.
    """
    data = data_config(dataset, (128, 128))
    data.crop = False
    data.targets = "set_prediction"
    data.max_set_size = 10
    config = base_config(set_prediction_model_config(num_slots=10), data)
    config.batch_size = 512
    config.num_train_steps = 150_000
    config.warmup_steps = 1_000
    config.decay_steps = 50_000
    config.eval_every = 10_000
    return config


class ConfigFileError(ValueError):
    """A config file that cannot be loaded: no ``get_config()``, or an error raised inside the file."""


def config_file_path(path: str) -> str:
    """The file of a ``--config`` value (``"file.py"`` or ``"file.py:<argument for get_config>"``)."""
    return path.split(":", 1)[0]


def check_config_file(path: str) -> None:
    """Raises FileNotFoundError naming ``path`` and the fix when it is not a file.

    Also forgets the config file loaded before: ml_collections loads each one as the module
    ``config_config`` with ``SourceFileLoader.load_module``, which runs a new file in the namespace
    of the last one, so a file without ``get_config()`` would silently get the previous file's.
    """
    sys.modules.pop("config_config", None)
    file = config_file_path(path)
    what = "is a directory" if os.path.isdir(file) else "does not exist"
    if not os.path.isfile(file):
        raise FileNotFoundError(
            f"config file {file!r} {what}; pass the path of a config file, e.g. "
            "--config=configs/debug.py."
        )


def config_file_error(path: str, err: BaseException) -> ConfigFileError | None:
    """What went wrong in the config file at ``path`` while loading it, or None if ``err`` (or an
    exception it was raised from) did not arise in that file: a missing ``get_config()``, or an
    exception raised by the file's own code, named with its line."""
    file = os.path.abspath(config_file_path(path))
    chain, seen = [], err
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for exc in reversed(chain):  # the original exception first
        if isinstance(exc, AttributeError) and exc.name == "get_config":
            return ConfigFileError(
                f"config file {file!r} defines no get_config(); add a function get_config() that "
                "returns the ml_collections.ConfigDict (see configs/debug.py)."
            )
        lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
                 if os.path.abspath(f.filename) == file]
        if isinstance(exc, SyntaxError) and exc.filename and os.path.abspath(exc.filename) == file:
            lines.append(exc.lineno)
        if lines:
            message = " ".join(str(exc).split()) or "(no message)"
            return ConfigFileError(
                f"config file {file!r} failed at line {lines[-1]}: {type(exc).__name__}: {message}; "
                "fix the config file."
            )
    return None


def load_config(path: str, overrides: Sequence[str] = ()) -> ml_collections.ConfigDict:
    """``get_config()`` of the config file at ``path``, with ``--config.<key>=<value>`` overrides
    parsed exactly as ``python -m slot_jax.main`` parses them (ml_collections ``config_flags``).

    Raises FileNotFoundError when ``path`` is not a file and :class:`ConfigFileError` when it has
    no ``get_config()`` or raises while loading.
    """
    from absl import flags
    from ml_collections import config_flags

    check_config_file(path)
    argv = ["slot_jax", f"--config={path}", *overrides]
    values = flags.FlagValues()  # sys_argv: the overrides are found there, not in sys.argv
    config_flags.DEFINE_config_file("config", None, "Config file.", flag_values=values, sys_argv=argv)
    try:
        values(argv)
    except Exception as err:
        problem = config_file_error(path, err)
        if problem is None:
            raise
        raise problem from err
    return values.config


LEARNING_TEST_IMAGE_SIZE = (16, 16)
LEARNING_TEST_STEPS = 6_000


def learning_test_config() -> ml_collections.ConfigDict:
    """The learning test's config (``configs/learning_test.py``; its docstring says what and why)."""
    data = data_config("procedural_multi_dsprites/clustered", LEARNING_TEST_IMAGE_SIZE)
    data.num_train = 1024
    data.num_eval = 256
    model = sprites_model_config(num_slots=4, image_size=LEARNING_TEST_IMAGE_SIZE)
    model.encoder.features = (32, 32, 32)  # 16 channels collapse on about 1 seed in 13
    model.encoder.strides = (1, 1, 1)
    model.encoder.kernel_size = 3
    model.encoder.mlp_features = (32, 32)
    model.decoder.features = (32, 32)
    model.decoder.strides = (1, 1)
    model.decoder.kernel_size = 3
    config = base_config(model, data)
    config.seed = 0
    config.learning_test_seeds = (0, 1)
    config.batch_size = 32
    config.num_train_steps = LEARNING_TEST_STEPS
    config.learning_rate = 1e-3
    config.schedule = "warmup_cosine"
    config.warmup_steps = LEARNING_TEST_STEPS // 4
    config.grad_clip_norm = 0.05
    config.log_every = 500
    config.image_log_every = 0
    config.checkpoint_every = LEARNING_TEST_STEPS
    config.eval_every = 1_000
    config.eval_batch_size = 128
    return config
