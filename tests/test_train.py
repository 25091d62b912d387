"""The trainer: schedule, determinism, data parallelism, resume, preemption (config errors:
tests/test_errors.py; the non-finite stop and damaged or failed checkpoints: test_checkpoint.py;
the same on the command line: test_faults.py)."""

import os
import signal

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import tensorflow as tf
from conftest import tiny_train_config

from slot_jax.lib import checkpoint
from slot_jax.train import (
    make_schedule,
    paper_schedule,
    train,
    warmup_cosine_schedule,
)
from slot_jax.train.stop_signals import TrainingStopped
from slot_jax.train.validate import ConfigError, validate_config


def test_schedule_matches_formula():
    lr = paper_schedule(4e-4, warmup_steps=10_000, decay_steps=100_000)
    for step in [0, 1, 5_000, 10_000, 12_345, 100_000, 499_999]:
        want = 4e-4 * min(step / 10_000, 1.0) * 0.5 ** (step / 100_000)
        np.testing.assert_allclose(float(lr(step)), want, rtol=1e-5, atol=1e-12)


def test_warmup_cosine_schedule_matches_formula():
    base, warmup, total = 1e-3, 1_500, 6_000
    lr = warmup_cosine_schedule(base, warmup, total)
    for step in [0, 1, 700, 1_500, 1_501, 3_000, 4_321, 5_999, 6_000, 7_000]:
        if step < warmup:
            want = base * step / warmup
        else:
            done = min(step - warmup, total - warmup) / (total - warmup)
            want = base * 0.5 * (1 + np.cos(np.pi * done))
        np.testing.assert_allclose(float(lr(step)), want, rtol=1e-5, atol=1e-9)  # float32


def test_make_schedule_follows_config_schedule(tmp_path):
    config = tiny_train_config(str(tmp_path))
    assert config.schedule == "paper"  # the paper's schedule stays the default
    config.learning_rate, config.warmup_steps, config.decay_steps = 1e-3, 10, 20
    config.num_train_steps = 40
    np.testing.assert_allclose(float(make_schedule(config)(30)), 1e-3 * 0.5**1.5, rtol=1e-5)
    config.schedule = "warmup_cosine"
    np.testing.assert_allclose(float(make_schedule(config)(25)), 1e-3 * 0.5, rtol=1e-5)
    config.schedule = "linear"
    with pytest.raises(ConfigError, match="config.schedule='linear'"):
        validate_config(config)


def _losses(workdir):
    """The logged loss per step, from the TensorBoard event files."""
    losses = {}
    event_dir = os.path.join(workdir, "train")
    for name in sorted(os.listdir(event_dir)):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(event_dir, name)):
            for value in event.summary.value:
                if value.tag == "loss":
                    losses[event.step] = value.simple_value
    return [losses[k] for k in sorted(losses)]


def _params(state):
    return jax.tree.leaves(jax.device_get(state.params))


@pytest.fixture(scope="module")
def reference_run(tfds_dir, tmp_path_factory):
    """4 steps on 1 device (mesh mode): the run the other tests compare with."""
    workdir = str(tmp_path_factory.mktemp("reference"))
    state = train(tiny_train_config(tfds_dir), workdir, devices=jax.devices()[:1])
    return workdir, state


def test_determinism_and_logging(reference_run, tfds_dir, tmp_path):
    workdir, state = reference_run
    losses = _losses(workdir)
    assert len(losses) == 4 and all(np.isfinite(losses))
    again = train(tiny_train_config(tfds_dir), str(tmp_path), devices=jax.devices()[:1])
    assert _losses(str(tmp_path)) == losses
    for a, b in zip(_params(state), _params(again), strict=True):
        np.testing.assert_array_equal(a, b)
    assert os.path.exists(os.path.join(workdir, "config.json"))
    assert checkpoint.make_manager(workdir, 3, read_only=True).all_steps() == [2, 4]


@pytest.mark.parametrize("mode", ["mesh", "pmap"])
def test_four_devices_match_one(reference_run, tfds_dir, tmp_path, mode):
    assert jax.device_count() == 4
    workdir, state = reference_run
    config = tiny_train_config(tfds_dir, parallelism=mode)
    state4 = train(config, str(tmp_path))
    np.testing.assert_allclose(_losses(str(tmp_path)), _losses(workdir), rtol=1e-5)
    # Adam maps a near-zero gradient to an update of about +-lr, so reduction-order rounding can
    # move such a parameter by up to one learning-rate step (~1e-4 here).
    for a, b in zip(_params(state), _params(state4), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=5e-4)


def test_resume_equals_uninterrupted(reference_run, tfds_dir, tmp_path):
    workdir, state = reference_run
    half = train(tiny_train_config(tfds_dir, num_train_steps=2), str(tmp_path),
                 devices=jax.devices()[:1])
    assert int(half.step) == 2
    # A save interrupted mid-way is ignored: the run resumes from step 2.
    partial = os.path.join(checkpoint.checkpoint_dir(str(tmp_path)), "3.orbax-checkpoint-tmp-1")
    os.makedirs(os.path.join(partial, "state"))
    resumed = train(tiny_train_config(tfds_dir), str(tmp_path), devices=jax.devices()[:1])
    assert int(resumed.step) == 4
    for a, b in zip(_params(state), _params(resumed), strict=True):
        np.testing.assert_array_equal(a, b)
    assert _losses(str(tmp_path)) == _losses(workdir)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_saves_the_current_step(tfds_dir, tmp_path, signum):
    def send_signal(step):
        if step == 3:
            os.kill(os.getpid(), signum)

    config = tiny_train_config(tfds_dir, num_train_steps=50, checkpoint_every=100)
    with pytest.raises(TrainingStopped, match=r"at step 3 of 50; saved step 3 in ") as stopped:
        train(config, str(tmp_path), step_callback=send_signal, devices=jax.devices()[:1])
    assert stopped.value.signum == signum
    assert checkpoint.make_manager(str(tmp_path), 3, read_only=True).all_steps() == [3]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_nonfinite_update_is_skipped_in_the_step():
    from slot_jax.lib.state import create_state
    from slot_jax.models.build import build_model
    from slot_jax.train.optim import make_optimizer, make_schedule
    from slot_jax.train.step import make_train_step

    config = tiny_train_config("/unused")
    model = build_model(config.model)
    image = jnp.zeros((2, 16, 16, 3))
    params = model.init({"params": jax.random.key(0), "slots": jax.random.key(1)}, image)["params"]
    opt = make_optimizer(config)
    state = create_state(params, opt, jax.random.key(2))
    step = jax.jit(make_train_step(model, opt, make_schedule(config)))
    new, metrics = step(state, {"image": image.at[0, 0, 0, 0].set(jnp.nan)}, jax.random.key(3))
    assert not bool(metrics["finite"]) and int(new.step) == 1
    for a, b in zip(jax.tree.leaves(new.params), jax.tree.leaves(state.params), strict=True):
        np.testing.assert_array_equal(a, b)
    assert optax.tree.norm(new.params) > 0
