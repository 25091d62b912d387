"""--mode=eval: metrics JSON and PNG, exactly-once counting, 1 vs 4 devices, missing checkpoints."""

import json
import os

import jax
import numpy as np
import pytest
from conftest import tiny_train_config

from slot_jax.evaluation import summarize
from slot_jax.train import evaluate, train

KEYS = ("fg_ari", "ari", "mbo", "miou", "mse", "slots_used", "duplicate_slots", "fg_largest_slot",
        "fg_largest_object")


@pytest.fixture(scope="module")
def trained(tfds_dir, tmp_path_factory):
    """2 steps on 1 device with an evaluation at the end (eval batch 24: the last one is padded)."""
    workdir = str(tmp_path_factory.mktemp("eval_run"))
    config = tiny_train_config(tfds_dir, num_train_steps=2, eval_every=2, eval_batch_size=24)
    train(config, workdir, devices=jax.devices()[:1])
    return config, workdir


def _load(workdir, step):
    with open(os.path.join(workdir, "eval", f"metrics_{step}.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("mode", ["mesh", "pmap"])
def test_eval_on_four_devices_matches_one(trained, mode):
    config, workdir = trained
    during_training = _load(workdir, 2)  # 1 device
    config = config.copy_and_resolve_references()
    config.parallelism = mode
    result = evaluate(config, workdir)  # all 4 devices
    assert result["step"] == 2
    saved = _load(workdir, 2)
    assert saved["step"] == 2
    for key in KEYS:
        got, want = saved["metrics"][key], during_training["metrics"][key]
        assert got["num_images"] == want["num_images"]
        np.testing.assert_allclose(got["mean"], want["mean"], rtol=1e-4, atol=1e-6)
    # Every held-out example exactly once: 64 images in batches of 24 (the last one padded).
    assert saved["metrics"]["mse"]["num_images"] == config.data.num_eval == 64
    assert os.path.exists(os.path.join(workdir, "eval", "slots_2.png"))


def test_summary_excludes_padding_and_objectless_images():
    per_image = {
        "mse": np.array([1.0, 3.0, 100.0]),
        "mbo": np.array([0.5, 0.0, 9.0]),
        "num_objects": np.array([2, 0, 1]),
        "padding_mask": np.array([True, True, False]),
    }
    summary = summarize(per_image)
    assert summary["mse"] == {"mean": 2.0, "sem": pytest.approx(1.0), "num_images": 2}
    assert summary["mbo"]["mean"] == 0.5 and summary["mbo"]["num_images"] == 1


def test_summary_averages_foreground_shares_over_multi_object_images():
    per_image = {
        "fg_largest_slot": np.array([1.0, 0.6, 0.8, 0.2]),
        "num_objects": np.array([1, 2, 3, 3]),
        "padding_mask": np.array([True, True, True, False]),
    }
    summary = summarize(per_image)["fg_largest_slot"]
    assert summary["mean"] == pytest.approx(0.7) and summary["num_images"] == 2


def test_missing_checkpoint_names_the_workdir(tfds_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        evaluate(tiny_train_config(tfds_dir), str(tmp_path))
