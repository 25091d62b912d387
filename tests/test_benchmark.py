"""The benchmark harness: result fields and types for the step and data modes (not speed)."""

import json

import jax
import pytest
from conftest import tiny_train_config

from slot_jax import benchmark
from slot_jax.train.parallel import DataParallel


def _check_types(result: dict, fields: dict) -> None:
    for name, kind in fields.items():
        assert name in result, name
        assert isinstance(result[name], kind), (name, result[name])
    json.loads(json.dumps(result))  # one JSON line


def test_step_mode(tfds_dir):
    config = tiny_train_config(tfds_dir)  # batch 8 over 4 CPU devices, mesh mode
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
    assert result["architecture"] == "sprites" and result["batch_size"] == 8
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


def test_flops_and_names():
    assert benchmark._flops({"flops": 2.0}) == 2.0
    assert benchmark._flops([{"flops": 2.0}, {"flops": 3.0}]) == 5.0
    assert benchmark._flops(None) is None and benchmark._flops([{}]) is None
    assert benchmark.architecture_name(tiny_train_config("/unused").model) == "sprites"
    with pytest.raises(ValueError, match="Unknown benchmark mode"):
        benchmark.run(tiny_train_config("/unused"), "bogus")
