"""The multi-seed runner: one trainer process per seed, on one device each, failures reported."""

import json
import os

import pytest
from conftest import REPO

from slot_jax.commands.seeds import one_device_env, run_seeds, seed_command
from slot_jax.config_base import load_config
from slot_jax.evaluation.results import read_curve

DEBUG = str(REPO / "configs" / "debug.py")


def test_load_config_applies_overrides_like_the_trainer():
    config = load_config(DEBUG, ["--config.seed=7", "--config.data.num_train=32"])
    assert (config.seed, config.data.num_train) == (7, 32)
    assert seed_command(DEBUG, "w", 3, ["--config.seed=7"])[-1] == "--config.seed=3"  # seed wins


def test_one_device_env_drops_the_forced_device_count(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=4 --xla_cpu_foo=1")
    assert one_device_env()["XLA_FLAGS"] == "--xla_cpu_foo=1"


def test_read_curve_orders_steps(tmp_path):
    os.makedirs(tmp_path / "eval")
    for step, value in [(20, 0.5), (10, 0.25)]:
        with open(tmp_path / "eval" / f"metrics_{step}.json", "w") as f:
            json.dump({"step": step, "metrics": {"fg_ari": {"mean": value, "sem": 0.0}}}, f)
    assert read_curve(str(tmp_path)) == {10: {"fg_ari": 0.25}, 20: {"fg_ari": 0.5}}


def test_a_failing_seed_raises_with_its_log(tfds_dir, tmp_path):
    overrides = [f"--config.data.data_dir={tfds_dir}", "--config.batch_size=-1"]
    with pytest.raises(RuntimeError, match=r"(?s)Seed 5 failed.*batch_size=-1 must be an integer >= 1"):
        run_seeds(DEBUG, str(tmp_path), [5], overrides, timeout_s=300)
