"""The official TF2 checkpoints in slot_jax (``slot_jax.tf_checkpoint``, ``python -m slot_jax.convert``).

No official checkpoint can be downloaded here, so each test builds the official architecture with
Keras (:mod:`slot_jax.testing.keras_model`: the official object graph), gives it random weights and
biases, saves it as the official ``train.py`` does (``tf.train.Checkpoint(network=model,
optimizer=..., global_step=...)``), converts it and compares both models' outputs on the same image
and slot noise. Keras 3 (``tf.keras`` under TensorFlow 2.21) and Keras 2 (``tf_keras``, the
official code's; skipped unless installed: ``pip install tf_keras``, which also pulls the full
``tensorflow`` wheel) write different checkpoint keys; :func:`test_names_of_both_keras_layouts`
checks the Keras 2 layout without ``tf_keras``.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO

from slot_jax.config_base import load_config
from slot_jax.lib.quiet import import_quietly
from slot_jax.models import build_model
from slot_jax.testing import keras_model
from slot_jax.tf_checkpoint import (
    ConversionError,
    TFCheckpointError,
    conv_transpose_kernel,
    load_tf_params,
    read_checkpoint,
)
from slot_jax.tf_checkpoint.reader import canonical_names

import_quietly("tensorflow")
import tensorflow as tf  # noqa: E402

TOLERANCE = 1e-4
KERAS = {"keras3": lambda: tf.keras, "keras2": lambda: pytest.importorskip("tf_keras")}
# configs/debug.py with a decoder of the official kind (Conv2DTranspose, 4 -> 16 px), on 16x16 data
SMALL = ["--config.data.image_size=(16, 16)", "--config.model.image_size=(16, 16)",
         "--config.model.decoder.broadcast_size=(4, 4)", "--config.model.decoder.strides=(2, 2)",
         "--config.data.num_train=8", "--config.data.num_eval=8"]


def randomize(model, seed: int = 0, alpha_gain: float = 60.0) -> None:
    """Glorot-uniform kernels and N(0, 0.3) biases, LayerNorm betas, gammas (around 1), slot
    means and log-scales (the GRU's two bias rows too); the decoder's alpha kernel times
    ``alpha_gain``, so the masks differ clearly between slots."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        shape, name = tuple(v.shape), v.name
        if "kernel" in name:
            limit = np.sqrt(6.0 / (np.prod(shape[:-2], dtype=int) * (shape[-2] + shape[-1])))
            value = rng.uniform(-limit, limit, shape)
        else:
            value = rng.normal(0.0, 0.3, shape) + (1.0 if "gamma" in name else 0.0)
        v.assign(value.astype(np.float32))
    decoder = getattr(model.layers[1], "decoder_cnn", None)
    if decoder is not None:  # Conv2DTranspose: [kh, kw, out, in]; the alpha logit is out[-1]
        kernel = decoder.layers[-1].kernel
        kernel[:, :, -1, :].assign(kernel[:, :, -1, :] * alpha_gain)


def save_official(model, keras, directory: str, step: int) -> str:
    """Saves ``model`` as the official ``train.py`` does (Adam with its slots, the global step)."""
    optimizer = keras.optimizers.Adam(4e-4, epsilon=1e-8)
    optimizer.build(model.trainable_variables)
    global_step = tf.Variable(step, trainable=False, name="global_step", dtype=tf.int64)
    ckpt = tf.train.Checkpoint(network=model, optimizer=optimizer, global_step=global_step)
    return tf.train.CheckpointManager(ckpt, directory=directory, max_to_keep=5).save()


@functools.cache
def _apply(config_name: str):
    cfg = load_config(str(REPO / "configs" / f"{config_name}.py"))
    return cfg, jax.jit(build_model(cfg.model).apply)


_MADE: dict[tuple[str, str], dict] = {}


def official_model(which: str, config_name: str, tmp_path_factory) -> dict:
    """A random official model (Keras ``which``, ``configs/<config_name>.py``) saved as
    ``train.py`` saves it, and its outputs on one image and slot noise; made once per module."""
    if (which, config_name) in _MADE:
        return _MADE[which, config_name]
    keras = KERAS[which]()
    cfg, _ = _apply(config_name)
    model = keras_model.build_model(cfg.model, 1, keras=keras)
    randomize(model)
    directory = str(tmp_path_factory.mktemp(f"{which}_{config_name}"))
    save_official(model, keras, directory, step=500_000)
    rng = np.random.default_rng(1)
    image = rng.uniform(-1.0, 1.0, (1, *cfg.model.image_size, 3)).astype(np.float32)
    noise = rng.normal(size=(1, cfg.model.num_slots, cfg.model.slot_size)).astype(np.float32)
    layer, image_tf, noise_tf = model.layers[1], tf.constant(image), tf.constant(noise)
    if cfg.model.architecture == "autoencoder":
        outputs = dict(zip(("recon", "rgb", "masks", "slots"), layer(image_tf, noise_tf), strict=True))
    else:
        outputs = {"predictions": layer(image_tf, noise_tf), "slots": layer.slots(image_tf, noise_tf)}
    _MADE[which, config_name] = dict(
        config_name=config_name, directory=directory, image=image, noise=noise,
        outputs={k: np.asarray(v) for k, v in outputs.items()},
    )
    return _MADE[which, config_name]


@pytest.fixture(scope="module", ids="-".join,
                params=[(k, c) for k in KERAS for c in ("clevr", "clevr_set_prediction")])
def official(request, tmp_path_factory):
    return official_model(*request.param, tmp_path_factory)


def _differences(official: dict, params: dict) -> dict[str, float]:
    _, apply = _apply(official["config_name"])
    ours = apply({"params": params}, jnp.asarray(official["image"]), jnp.asarray(official["noise"]))
    return {k: float(np.abs(np.asarray(ours[k]) - v).max()) for k, v in official["outputs"].items()}


def test_converted_model_reproduces_the_keras_model(official):
    cfg, _ = _apply(official["config_name"])
    source = read_checkpoint(official["directory"])
    assert source.global_step == 500_000 and source.path.endswith("ckpt-1")
    count = sum(v.size for v in source.variables.values())
    assert count == {"clevr": 890_308, "clevr_set_prediction": 380_755}[official["config_name"]]
    differences = _differences(official, load_tf_params(official["directory"], cfg.model))
    print(official["directory"], differences)  # the measured differences (pytest -s)
    assert max(differences.values()) <= TOLERANCE, differences
    if "masks" in official["outputs"]:  # a comparison that means something
        masks = official["outputs"]["masks"]
        assert masks.max() > 0.4 and masks.min() < 0.03  # 1/7 would be uniform
        assert np.abs(official["outputs"]["recon"]).max() > 0.3


def _wrong(params: dict, variables: dict, mistake: str) -> dict:
    params = jax.tree.map(np.asarray, params)
    gru, bias = params["slot_attention"]["gru"], variables["slot_attention/gru/bias"]
    u = bias.shape[-1] // 3
    if mistake == "transposed kernels not flipped":
        for i, name in enumerate([*(f"conv_{j}" for j in range(4)), "conv_4", "output"]):
            kernel = variables[f"decoder_cnn/{i}/kernel"]
            params["decoder"][name]["kernel"] = kernel.transpose(0, 1, 3, 2)
    elif mistake == "z and r biases not summed":
        gru["iz"]["bias"], gru["ir"]["bias"] = bias[0, :u], bias[0, u:2 * u]
    elif mistake == "candidate biases summed":
        gru["in"]["bias"] = bias[0, 2 * u:] + bias[1, 2 * u:]
        gru["hn"]["bias"] = np.zeros(u, np.float32)
    return params


@pytest.mark.parametrize("mistake", ["transposed kernels not flipped", "z and r biases not summed",
                                     "candidate biases summed"])
def test_comparison_catches_a_wrong_mapping(tmp_path_factory, mistake):
    official = official_model("keras3", "clevr", tmp_path_factory)
    cfg, _ = _apply("clevr")
    params = load_tf_params(official["directory"], cfg.model)
    variables = read_checkpoint(official["directory"]).variables
    differences = _differences(official, _wrong(params, variables, mistake))
    assert max(differences.values()) > 100 * TOLERANCE, differences


def test_conv_transpose_kernel_is_flipped_and_swapped():
    kernel = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    out = conv_transpose_kernel(kernel)
    assert out.shape == (2, 3, 5, 4) and out[0, 0, 1, 2] == kernel[1, 2, 2, 1]


def test_names_of_both_keras_layouts():
    """Keras 2 (the official checkpoints' keys, aliases ``layer-i`` already skipped) and Keras 3
    (``_functional/_operations/i``, counting the input layer; ``_kernel``) name alike."""
    keras2 = ["layer_with_weights-0/encoder_cnn/layer_with_weights-0/kernel",
              "layer_with_weights-0/encoder_cnn/layer_with_weights-1/bias",
              "layer_with_weights-0/slot_attention/mlp/layer_with_weights-0/kernel",
              "layer_with_weights-0/slot_attention/mlp/layer_with_weights-1/kernel",
              "layer_with_weights-0/slot_attention/gru/recurrent_kernel",
              "layer_with_weights-0/encoder_pos/dense/kernel"]
    keras3 = ["_operations/1/encoder_cnn/_functional/_operations/1/_kernel",
              "_operations/1/encoder_cnn/_functional/_operations/2/bias",
              "_operations/1/slot_attention/mlp/_functional/_operations/1/_kernel",
              "_operations/1/slot_attention/mlp/_functional/_operations/2/_kernel",
              "_operations/1/slot_attention/gru/recurrent_kernel",
              "_operations/1/encoder_pos/dense/_kernel"]
    expected = ["encoder_cnn/0/kernel", "encoder_cnn/1/bias", "slot_attention/mlp/0/kernel",
                "slot_attention/mlp/1/kernel", "slot_attention/gru/recurrent_kernel",
                "encoder_pos/dense/kernel"]
    assert canonical_names([p.split("/") for p in keras2]) == expected
    assert canonical_names([p.split("/") for p in keras3]) == expected


def test_errors_name_what_differs(tmp_path_factory, tmp_path):
    official = official_model("keras3", "clevr_set_prediction", tmp_path_factory)
    clevr = _apply("clevr")[0].model
    with pytest.raises(ConversionError, match=r"mlp_classifier/0/kernel.*map to nothing.*"
                       r"it lacks .*decoder_cnn/0/kernel.*configs/clevr\.py"):
        load_tf_params(official["directory"], clevr)
    narrow = _apply("clevr_set_prediction")[0].model.copy_and_resolve_references()
    narrow.slot_size = 32
    with pytest.raises(ConversionError, match=r"slot_init/mu is \(1, 1, 64\) in the checkpoint "
                       r"but \(1, 1, 32\) in the model"):
        load_tf_params(official["directory"], narrow)
    sprites = load_config(str(REPO / "configs" / "debug.py")).model
    with pytest.raises(ConversionError, match=r"decoder\.strides=\(1, 1\)"):
        load_tf_params(official["directory"], sprites)
    with pytest.raises(FileNotFoundError, match="no_such.index"):
        read_checkpoint(str(tmp_path / "no_such"))
    other = tf.train.Checkpoint(model=tf.Variable(1.0)).save(str(tmp_path / "other" / "ckpt"))
    with pytest.raises(TFCheckpointError, match=r"no 'network' object \(it holds \['model'"):
        read_checkpoint(other)


def test_command_line_writes_what_eval_and_resume_restore(tfds_dir, tmp_path):
    from slot_jax.lib.trainer_checkpoints import Checkpoints
    from slot_jax.train import build_setup, convert_tf_checkpoint, evaluate

    overrides = [*SMALL, f"--config.data.data_dir={tfds_dir}"]
    config = load_config(str(REPO / "configs" / "debug.py"), overrides)
    model = keras_model.build_model(config.model, 1)
    randomize(model)
    source = str(tmp_path / "tf")
    save_official(model, tf.keras, source, step=7)
    workdir = str(tmp_path / "converted")
    path = os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "slot_jax.convert", f"--tf_checkpoint={source}",
         "--config=configs/debug.py", *overrides, f"--workdir={workdir}"],
        cwd=REPO, env=dict(os.environ, PYTHONPATH=path), capture_output=True, text=True,
        timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Wrote {workdir}/checkpoints/7: ") and "--mode=eval" in done.stdout

    result = evaluate(config, workdir)  # what --mode=eval runs
    assert result["step"] == 7 and np.isfinite(result["metrics"]["mse"]["mean"])
    with Checkpoints(workdir, config.keep_checkpoints) as checkpoints:  # what resuming runs
        state = checkpoints.resume(build_setup(config).abstract_state())
    assert int(state.step) == 7
    jax.tree.map(np.testing.assert_array_equal, state.params, load_tf_params(source, config.model))
    fine_tune = convert_tf_checkpoint(source, config, str(tmp_path / "fine_tune"), step=0)
    assert fine_tune["step"] == 0 and fine_tune["global_step"] == 7
    with pytest.raises(FileExistsError, match=r"already holds checkpoints \(steps \[7\]\)"):
        convert_tf_checkpoint(source, config, workdir)
