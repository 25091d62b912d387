"""Checkpoints: checksums, resuming past damaged ones, failed saves, --mode=eval, and the non-finite
stop (the same faults on the command line: tests/test_faults.py)."""

import errno
import glob
import hashlib
import json
import logging
import os
import re
import shutil

import jax
import pytest
from conftest import tiny_train_config
from orbax.checkpoint._src.path import async_path

from slot_jax.lib import checkpoint
from slot_jax.lib.checkpoint import CheckpointError, CheckpointSaveError
from slot_jax.lib.checksum import CHECKSUM_FILE
from slot_jax.lib.trainer_checkpoints import UNRESTORABLE_FILE
from slot_jax.train import NonFiniteLossError, evaluate, train
from slot_jax.train.setup import build_setup


@pytest.fixture(scope="module")
def run_train(tfds_dir):
    """``run_train(workdir, **overrides)``: :func:`train` of the tiny config on one device."""
    def run(workdir, **overrides):
        config = tiny_train_config(tfds_dir, **overrides)
        return train(config, str(workdir), devices=jax.devices()[:1])

    return run


@pytest.fixture(scope="module")
def saved_run(run_train, tmp_path_factory):
    """A workdir holding checkpoints 2 and 4 (4 steps, checkpoint_every=2)."""
    workdir = tmp_path_factory.mktemp("saved")
    run_train(workdir)
    return workdir


@pytest.fixture
def workdir(saved_run, tmp_path):
    """A copy of :func:`saved_run` to damage."""
    shutil.copytree(saved_run, tmp_path, dirs_exist_ok=True)
    return tmp_path


def _step_dir(workdir, step):
    return os.path.join(checkpoint.checkpoint_dir(str(workdir)), str(step))


def file_hashes(directory):
    """Every file below ``directory`` and a hash of its bytes."""
    out = {}
    for path in sorted(glob.glob(os.path.join(directory, "**"), recursive=True)):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[os.path.relpath(path, directory)] = hashlib.sha256(f.read()).hexdigest()
    return out


def _arrays(step_dir):
    paths = sorted(glob.glob(os.path.join(step_dir, "state", "**", "d", "*"), recursive=True))
    assert paths
    return paths


def flip_a_bit(step_dir):
    """Bit rot: one bit of the largest array file, its size unchanged."""
    path = max(_arrays(step_dir), key=os.path.getsize)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        byte = f.read(1)[0]
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte ^ 1]))
    return os.path.relpath(path, step_dir)


def truncate_arrays(step_dir):
    for path in _arrays(step_dir):
        os.truncate(path, os.path.getsize(path) // 2)
    return os.path.relpath(_arrays(step_dir)[0], step_dir)


def garble_metadata(step_dir):
    with open(os.path.join(step_dir, "state", "_METADATA"), "w") as f:
        f.write('{"tree_metadata": {"params": ')
    return "state/_METADATA"


def remove_manifest(step_dir):
    os.remove(os.path.join(step_dir, "state", "manifest.ocdbt"))
    return "state/manifest.ocdbt"


def without_checksum(step_dir):
    """As a checkpoint written before checksums were."""
    os.remove(os.path.join(step_dir, CHECKSUM_FILE))


def _warnings(caplog):
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


# Each damage, and how the warning names it: by the checksum (the file), or, in a step saved
# without one, by the error restoring it.
DAMAGES = [
    (flip_a_bit, "{} differs from the checksum written when it was saved"),
    (truncate_arrays, "{} differs from the checksum written when it was saved"),
    (remove_manifest, "{} is missing"),
    (lambda step_dir: (without_checksum(step_dir), garble_metadata(step_dir)),
     "does not restore (JSONDecodeError"),
]


@pytest.mark.parametrize("damage, reason", DAMAGES,
                         ids=["bit_flip", "truncated", "missing", "no_checksum"])
def test_damaged_newest_checkpoint_resumes_from_the_previous_one(
    workdir, run_train, damage, reason, caplog
):
    assert os.path.exists(os.path.join(_step_dir(workdir, 4), CHECKSUM_FILE))
    named = damage(_step_dir(workdir, 4))
    without_checksum(_step_dir(workdir, 2))  # a step saved before checksums restores as before
    damaged = file_hashes(_step_dir(workdir, 4))
    with caplog.at_level(logging.INFO):
        state = run_train(workdir, num_train_steps=6, keep_checkpoints=1)
    assert int(state.step) == 6
    warned = _warnings(caplog)
    what = "is damaged (" + reason.format(named) if "{}" in reason else reason
    assert f"Checkpoint step 4 in {_step_dir(workdir, 4)} {what}" in warned
    assert f"Resumed from {checkpoint.checkpoint_dir(str(workdir))} at step 2." in caplog.text
    # Step 4 is neither overwritten at step 4 nor deleted by rotation (keep 1: step 6, and it).
    assert "Not saving step 4" in warned
    assert file_hashes(_step_dir(workdir, 4)) == damaged
    assert sorted(os.listdir(checkpoint.checkpoint_dir(str(workdir)))) == [
        "4", "6", UNRESTORABLE_FILE
    ]
    with open(os.path.join(checkpoint.checkpoint_dir(str(workdir)), UNRESTORABLE_FILE)) as f:
        assert list(json.load(f)) == ["4"]


def test_rotation_keeps_good_checkpoints_and_later_runs_keep_the_damaged_one(workdir, run_train):
    garble_metadata(_step_dir(workdir, 4))
    damaged = file_hashes(_step_dir(workdir, 4))
    run_train(workdir, num_train_steps=5, checkpoint_every=1, keep_checkpoints=2)
    # Resumed at 2; step 4 was not saved again. orbax's max_to_keep=2 would keep only [4, 5].
    assert checkpoint.make_manager(str(workdir), 2, read_only=True).all_steps() == [3, 4, 5]
    run_train(workdir, num_train_steps=8, checkpoint_every=1, keep_checkpoints=2)  # resumes at 5
    assert checkpoint.make_manager(str(workdir), 2, read_only=True).all_steps() == [4, 7, 8]
    assert file_hashes(_step_dir(workdir, 4)) == damaged


def test_no_checkpoint_restores_is_one_clear_error(workdir, run_train):
    truncate_arrays(_step_dir(workdir, 4))
    without_checksum(_step_dir(workdir, 2))
    garble_metadata(_step_dir(workdir, 2))
    before = file_hashes(checkpoint.checkpoint_dir(str(workdir)))
    with pytest.raises(CheckpointError) as err:
        run_train(workdir, num_train_steps=6)
    assert isinstance(err.value, FileNotFoundError)  # main.py prints it as one error line
    message = str(err.value)
    assert f"No checkpoint in {checkpoint.checkpoint_dir(str(workdir))} restores" in message
    assert "step 4: damaged, state/" in message and "step 2: JSONDecodeError" in message
    assert "new --workdir" in message and "\n" not in message
    assert file_hashes(checkpoint.checkpoint_dir(str(workdir))) == before


@pytest.mark.parametrize("failure", ["directory", "commit"])
def test_failed_save_is_a_clear_error_and_deletes_nothing(
    workdir, run_train, tfds_dir, monkeypatch, failure
):
    directory = checkpoint.checkpoint_dir(str(workdir))
    before = file_hashes(directory)

    async def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if failure == "commit":  # in the background, after the arrays are written: seen at step 8
        monkeypatch.setattr(async_path, "rename", no_space)
    elif os.geteuid() == 0:  # root writes into a read-only directory: fail orbax's mkdir instead
        monkeypatch.setattr(async_path, "mkdir", no_space)
    else:  # the step directory cannot be created: seen at step 6
        os.chmod(directory, 0o555)
    try:
        # Resumes at 4 and fails to save 6. With keep 1, rotation would delete 2 and 4 once 6 is
        # written.
        with pytest.raises(CheckpointSaveError, match=re.escape(
            f"Could not save the checkpoint of step 6 in {directory}"
        )) as err:
            run_train(workdir, num_train_steps=8, keep_checkpoints=1)
    finally:
        os.chmod(directory, 0o755)
    assert "The checkpoint of step 4 is left as it was" in str(err.value)
    monkeypatch.undo()
    assert checkpoint.make_manager(str(workdir), 1, read_only=True).all_steps() == [2, 4]
    assert file_hashes(directory) == before  # the partial step 6 removed too
    manager = checkpoint.make_manager(str(workdir), 1, read_only=True)
    abstract = build_setup(tiny_train_config(tfds_dir), jax.devices()[:1]).abstract_state()
    assert int(checkpoint.restore(manager, abstract).step) == 4


def test_eval_of_a_damaged_checkpoint(workdir, tfds_dir, caplog):
    garble_metadata(_step_dir(workdir, 4))
    config = tiny_train_config(tfds_dir)
    with pytest.raises(CheckpointError, match=re.escape(
        f"Checkpoint step 4 in {_step_dir(workdir, 4)} is damaged (state/_METADATA differs from"
    )):
        evaluate(config, str(workdir), checkpoint_step=4)
    with caplog.at_level(logging.WARNING):
        result = evaluate(config, str(workdir))
    assert result["step"] == 2
    assert f"Checkpoint step 4 in {_step_dir(workdir, 4)} is damaged" in _warnings(caplog)


def _blow_up_config(**overrides):
    return dict(learning_rate=1e12, warmup_steps=0, num_train_steps=8, **overrides)


def test_nonfinite_loss_stops_within_the_steps_in_flight(run_train, tmp_path):
    with pytest.raises(NonFiniteLossError) as err:  # no logging or checkpoint before step 8
        run_train(tmp_path, **_blow_up_config(log_every=100, checkpoint_every=100))
    steps = re.search(r"at step (\d+); stopped at step (\d+)", str(err.value)).groups()
    first, stopped = map(int, steps)
    assert first < stopped <= first + 2 < 8
    assert "No checkpoint has been saved yet." in str(err.value)
    assert not os.path.exists(checkpoint.checkpoint_dir(str(tmp_path))) or not os.listdir(
        checkpoint.checkpoint_dir(str(tmp_path))
    )


def test_nonfinite_loss_keeps_the_last_good_checkpoint(run_train, tmp_path):
    with pytest.raises(NonFiniteLossError, match="The last good checkpoint is step 1.") as err:
        run_train(tmp_path, **_blow_up_config(checkpoint_every=1))
    assert "at step 2;" in str(err.value)  # step 1 is finite here: the test needs it
    assert checkpoint.make_manager(str(tmp_path), 3, read_only=True).all_steps() == [1]
