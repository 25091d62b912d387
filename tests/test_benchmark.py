"""The benchmark harness: result fields and types for the step and data modes (not speed), on every
architecture, and a traced train step for every config in ``configs/``."""

import json

import jax
import pytest
from conftest import (
    REPO,
    load_repo_config,
    tiny_clevr_config,
    tiny_set_prediction_train_config,
    tiny_train_config,
)

from slot_jax.commands import benchmark
from slot_jax.data.registry import DATASETS, split_name
from slot_jax.lib.parallel import DataParallel
from slot_jax.train import build_setup

CONFIGS = sorted(p.stem for p in (REPO / "configs").glob("*.py"))


def _tiny(architecture: str, data_dir: str):
    """A tiny training config of ``architecture`` (16x16 images, a few channels)."""
    if architecture == "set_prediction":
        return tiny_set_prediction_train_config(data_dir)
    config = tiny_train_config(data_dir)
    if architecture == "clevr":
        config.model = tiny_clevr_config(num_slots=4)
    return config


def _check_types(result: dict, fields: dict) -> None:
    for name, kind in fields.items():
        assert name in result, name
        assert isinstance(result[name], kind), (name, result[name])
    json.loads(json.dumps(result))  # one JSON line


@pytest.mark.parametrize("architecture", ["sprites", "clevr", "set_prediction"])
def test_step_mode(tfds_dir, architecture):
    config = _tiny(architecture, tfds_dir)  # batch 8 over 4 CPU devices, mesh mode
    config.model.slot_attention.num_iterations = 1  # compile time is most of this test
    config.model.encoder.features = (8,)
    config.model.encoder.strides = (1,)
    result = benchmark.run(config, "step", steps=2, warmup=1, peak_tflops=1.0)
    _check_types(result, {
        "mode": str, "architecture": str, "dtype": str, "batch_size": int, "device_kind": str,
        "jax_version": str, "num_devices": int, "compile_s": float, "step_s_median": float,
        "img_per_s": float, "flops_per_step": float, "achieved_tflops": float,
        "compiled_total_bytes": int, "final_loss": float, "step_cpu_s_median": float,
    })
    assert result["mode"] == "step" and result["parallelism"] == "mesh"
    assert result["architecture"] == architecture and result["batch_size"] == 8
    assert result["img_per_s"] == pytest.approx(8 / result["step_s_median"])
    assert result["flops_per_step"] > 0
    assert result["mfu"] == pytest.approx(result["achieved_tflops"] / (1.0 * 4))
    assert result["peak_bytes_in_use"] is None or isinstance(result["peak_bytes_in_use"], int)


@pytest.mark.parametrize("mode, shape", [("mesh", (8, 16, 16, 3)), ("pmap", (4, 2, 16, 16, 3))])
def test_synthetic_batch(mode, shape):
    batch = benchmark.synthetic_batch(tiny_train_config("/unused"), DataParallel(mode))
    image = batch["image"]
    assert isinstance(image, jax.Array) and image.shape == shape
    assert len(image.sharding.device_set) == 4
    assert -1.0 <= float(image.min()) and float(image.max()) <= 1.0


def test_data_mode(tfds_dir):
    config = tiny_train_config(tfds_dir)
    result = benchmark.run(config, "data", steps=3, warmup=1)
    _check_types(result, {
        "mode": str, "dataset": str, "examples_per_s": float, "setup_s": float,
        "elapsed_s": float, "batch_shapes": dict,
    })
    assert result["batch_shapes"]["image"] == [8, 16, 16, 3]
    assert result["examples_per_s"] > 0


@pytest.mark.parametrize("name", CONFIGS)
def test_every_config_builds_and_its_step_traces(name):
    """Each config's model, optimiser, loss and benchmark batch fit together (traced, not run)."""
    config = load_repo_config(name, "/unused")
    if split_name(config.data.name)[0] not in DATASETS:  # a reader not in the registry yet
        pytest.skip(f"{config.data.name} is not a registered dataset")
    config.batch_size = 8
    run = build_setup(config)
    batch = benchmark.synthetic_batch(config, run.par, run.dataset.num_frames)
    key = jax.random.key(0)
    state, metrics = jax.eval_shape(run.train_step, run.abstract_state(), batch, key)
    assert metrics["loss"].shape == () and state.step.shape == ()
    names = ("clevr", "sprites", "set_prediction", "savi")
    assert benchmark.architecture_name(config.model) in names


def test_flops_and_names():
    assert benchmark._flops({"flops": 2.0}) == 2.0
    assert benchmark._flops([{"flops": 2.0}, {"flops": 3.0}]) == 5.0
    assert benchmark._flops(None) is None and benchmark._flops([{}]) is None
    assert benchmark.architecture_name(tiny_train_config("/unused").model) == "sprites"
    with pytest.raises(ValueError, match="Unknown benchmark mode"):
        benchmark.run(tiny_train_config("/unused"), "bogus")
