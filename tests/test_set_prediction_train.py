"""Set prediction end to end: procedural CLEVR targets, the jitted matched loss, AP in the JSON."""

import json
import os

import jax
import numpy as np
import pytest
from conftest import tiny_set_prediction_train_config as _config

from slot_jax.train import train
from slot_jax.train.validate import ConfigError, validate_config


def test_trains_and_reports_ap(tfds_dir, tmp_path):
    config = _config(tfds_dir, num_train_steps=2, eval_every=2, eval_batch_size=4)
    state = train(config, str(tmp_path), devices=jax.devices()[:1])
    assert int(state.step) == 2
    with open(os.path.join(tmp_path, "eval", "metrics_2.json")) as f:
        metrics = json.load(f)["metrics"]
    for key in ("ap_inf", "ap_1", "ap_0.5", "ap_0.25", "ap_0.125"):
        assert 0.0 <= metrics[key]["mean"] <= 1.0 and metrics[key]["num_images"] == 3
    assert np.isfinite(metrics["loss"]["mean"]) and metrics["loss"]["mean"] > 0


def test_set_prediction_config_errors(tfds_dir):
    config = _config(tfds_dir)
    config.data.name = "procedural_multi_dsprites/simple"
    with pytest.raises(ConfigError, match="needs object properties"):
        validate_config(config)
    config = _config(tfds_dir)
    config.data.targets = None
    with pytest.raises(ConfigError, match="targets='set_prediction'"):
        validate_config(config)
    config = _config(tfds_dir)
    config.model.num_slots = 6
    with pytest.raises(ConfigError, match="num_slots=6 is too few.*10 objects"):
        validate_config(config)
