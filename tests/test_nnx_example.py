"""The Flax NNX example runs: slot_jax's linen modules bridged into NNX models are initialised,
compute what linen computes, and train with nnx.jit, nnx.value_and_grad and nnx.Optimizer."""

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "examples" / "nnx_bridge.py"


def test_nnx_example_runs_and_trains(capsys):
    spec = importlib.util.spec_from_file_location("nnx_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(steps=5)
    assert results["slots"] == (8, 4, 16)
    assert results["attention"] == (8, 4, 32)
    assert results["bridge_vs_linen"] < 1e-6
    # Both models learn, and the gradient reaches the bridged SlotAttention, not only the NNX layers.
    assert results["point_losses"][-1] < 0.5 * results["point_losses"][0], results["point_losses"]
    assert results["image_losses"][-1] < 0.9 * results["image_losses"][0], results["image_losses"]
    assert results["slot_attention_change"] > 1e-3
    assert "bridged autoencoder vs linen" in capsys.readouterr().out
