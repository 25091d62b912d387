"""Faults injected into the real command line, ``python -m slot_jax.main`` on the tiny debug config,
each in a subprocess: damaged bytes, a workdir of another model, a second trainer, a lock left by a
killed one, a non-finite loss, a failed save, SIGTERM and Ctrl-C. Each run must end with the right
status and last line, print no traceback, and lose no checkpoint. (The same faults inside the
trainer: test_checkpoint.py and test_train.py; flag errors: test_errors.py.)

One training run's workdir serves every check, copied where a check changes it, and the runs
that do not depend on each other run side by side.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import start_command, tiny_train_flags
from test_checkpoint import file_hashes, flip_a_bit

from slot_jax.lib.checksum import CHECKSUM_FILE
from slot_jax.lib.workdir_lock import workdir_lock
from slot_jax.train.stop_signals import StopSignals

TIMEOUT_S = 300


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The subprocesses' environment: one CPU device, and one compilation cache for all of them."""
    flags = re.sub(r"--xla_force_host_platform_device_count=\d+", "", os.environ.get("XLA_FLAGS", ""))
    return dict(os.environ, XLA_FLAGS=flags.strip(),
                JAX_COMPILATION_CACHE_DIR=str(tmp_path_factory.mktemp("xla_cache")),
                JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")


@pytest.fixture(scope="module")
def start(env, tfds_dir):
    """``start(workdir, *flags, **overrides)``: a :class:`Command` of ``slot_jax.main`` on the tiny
    config with ``--workdir=workdir``."""
    return functools.partial(Command, env, tfds_dir)


class Command:
    """``slot_jax.main`` running on the tiny config in ``workdir``, its stdout and stderr together
    (as a terminal shows them) in ``<workdir>.log``."""

    def __init__(self, env, tfds_dir, workdir: str, *flags: str, preexec_fn=None, **overrides):
        self.log = workdir.rstrip("/") + ".log"
        with open(self.log, "w") as out:
            self.process = start_command(
                "slot_jax.main", *tiny_train_flags(tfds_dir, **overrides), f"--workdir={workdir}",
                *flags, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=preexec_fn,
            )
        self.seconds = 0.0  # from a signal to the exit

    def output(self) -> str:
        with open(self.log) as f:
            return f.read()

    def stop(self, signum: int) -> None:
        """Sends ``signum`` once a step has run (the first loss is shown); times the exit."""
        deadline = time.time() + TIMEOUT_S
        while not re.search(r"train \d+/\d+ .*loss \d", self.output()):
            assert self.process.poll() is None and time.time() < deadline, self.output()
            time.sleep(0.2)
        self.process.send_signal(signum)
        sent = time.time()
        self.process.wait(timeout=TIMEOUT_S)
        self.seconds = time.time() - sent

    def finish(self) -> Run:
        """How it ended; asserts there is no traceback."""
        self.process.wait(timeout=TIMEOUT_S)
        text = self.output()
        assert "Traceback" not in text, text
        lines = [line for line in text.splitlines() if line.strip()]
        return Run(self.process.returncode, lines[-1], text, self.seconds)


@dataclasses.dataclass
class Run:
    """How a run ended: its exit status, last line and output; the seconds from a signal to the
    exit; for :func:`runs`, its workdir, the checkpoints' files before and the file of step 4
    damaged."""

    status: int
    last: str
    output: str
    seconds: float
    workdir: str = ""
    before: dict = dataclasses.field(default_factory=dict)
    damaged: str = ""


def steps(workdir) -> list[int]:
    directory = os.path.join(workdir, "checkpoints")
    return sorted(int(name) for name in os.listdir(directory) if name.isdigit())


def checkpoint_files(workdir) -> dict:
    return file_hashes(os.path.join(workdir, "checkpoints"))


def _small_files_only():
    """Files may not grow past 40 KiB: a checkpoint's array files do, the other outputs do not."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (40 * 1024, resource.RLIM_INFINITY))


def _kill_a_lock_holder(workdir, env) -> None:
    """A process that takes ``workdir``'s trainer lock and is killed with kill -9."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time\nfrom slot_jax.lib.workdir_lock import workdir_lock\n"
         f"with workdir_lock({workdir!r}):\n    print('locked', flush=True)\n    time.sleep(600)\n"],
        env=env, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait()


LONG = dict(num_train_steps=100_000, checkpoint_every=1000, log_every=1000, keep_checkpoints=5)


@pytest.fixture(scope="module")
def runs(start, env, tmp_path_factory) -> dict[str, Run]:
    """Every fault's run, side by side where they do not depend on each other (each starts
    TensorFlow and JAX, most of its time). First a 4-step training run (checkpoints 2 and 4) and a
    run whose loss blows up; then, each in a copy of the first's workdir: a resume with a damaged
    step 4 (after a trainer holding the lock was killed) stopped by SIGTERM, --mode=eval of that
    step, a config of another model, a second trainer (this process holds the lock) and a save
    that fails."""
    workdirs = {name: str(tmp_path_factory.mktemp(name)) for name in (
        "trained", "nonfinite", "resume", "eval", "other_model", "in_use", "full_disk")}
    first = {"trained": start(workdirs["trained"]),
             "nonfinite": start(workdirs["nonfinite"], num_train_steps=8, checkpoint_every=1,
                                learning_rate=1e12, warmup_steps=0)}
    out = {name: command.finish() for name, command in first.items()}
    assert out["trained"].status == 0, out["trained"].output
    damaged = {}
    for name in ("resume", "eval", "other_model", "in_use", "full_disk"):
        shutil.copytree(workdirs["trained"], workdirs[name], dirs_exist_ok=True)
    for name in ("resume", "eval"):
        damaged[name] = flip_a_bit(os.path.join(workdirs[name], "checkpoints", "4"))
    before = {name: checkpoint_files(workdir) for name, workdir in workdirs.items()}
    _kill_a_lock_holder(workdirs["resume"], env)
    with workdir_lock(workdirs["in_use"]), workdir_lock(workdirs["eval"]):
        second = {
            "resume": start(workdirs["resume"], **LONG),
            "eval": start(workdirs["eval"], "--mode=eval", "--checkpoint_step=4"),
            "other_model": start(workdirs["other_model"], "--config.model.slot_size=32"),
            "in_use": start(workdirs["in_use"]),
            "full_disk": start(workdirs["full_disk"], num_train_steps=6, keep_checkpoints=1,
                               preexec_fn=_small_files_only),
        }
        second["resume"].stop(signal.SIGTERM)
        out.update({name: command.finish() for name, command in second.items()})
    for name, run in out.items():
        run.workdir, run.before, run.damaged = workdirs[name], before[name], damaged.get(name, "")
    return out


def test_each_step_is_saved_with_its_checksum(runs):
    workdir = runs["trained"].workdir
    assert steps(workdir) == [2, 4]
    for step in (2, 4):
        assert os.path.exists(os.path.join(workdir, "checkpoints", str(step), CHECKSUM_FILE))


def test_damaged_step_refused_by_eval_beside_a_trainer(runs):
    run = runs["eval"]
    step_dir = os.path.join(run.workdir, "checkpoints", "4")
    assert run.status == 1, run.output
    assert run.last.startswith(
        f"error: Checkpoint step 4 in {step_dir} is damaged ({run.damaged} differs from the "
        "checksum written when it was saved). Saved steps: [2, 4]"
    )
    assert checkpoint_files(run.workdir) == run.before


def test_damaged_step_skipped_by_a_resume_after_a_killed_trainer_then_sigterm(runs):
    run = runs["resume"]
    step_dir = os.path.join(run.workdir, "checkpoints", "4")
    assert run.status == 128 + signal.SIGTERM, run.output
    assert f"Checkpoint step 4 in {step_dir} is damaged ({run.damaged} differs" in run.output
    assert "Restored step 2 of " in run.output
    match = re.fullmatch(rf"Stopped by SIGTERM at step (\d+) of 100000; saved step \d+ in "
                         rf"{run.workdir}/checkpoints. Rerun the same command to resume.", run.last)
    assert match, run.output
    stopped = int(match[1])
    assert steps(run.workdir) == [2, 4, stopped] and stopped > 4
    after = checkpoint_files(run.workdir)
    assert {k: v for k, v in run.before.items() if k.startswith("4/")} == {
        k: v for k, v in after.items() if k.startswith("4/")}
    print(f"SIGTERM to exit (beside other runs): {run.seconds:.1f} s")
    assert run.seconds < 15  # a preemption notice is often 30 s


def test_workdir_of_another_model_is_one_line_and_changes_nothing(runs):
    run = runs["other_model"]
    assert run.status == 1, run.output
    assert re.fullmatch(
        rf"error: The checkpoints in {run.workdir}/checkpoints were written by another model: "
        r"\d+ parameters differ in shape: .*slot_attention/\S+ \(saved \(16,\), config "
        r"\(32,\)\).* Train this config in a fresh --workdir.* Nothing was changed\.", run.last
    ), run.last
    assert checkpoint_files(run.workdir) == run.before
    with open(os.path.join(run.workdir, "config.json")) as f:
        assert '"slot_size": 16' in f.read()  # the workdir's own config, not the new one


def test_a_second_trainer_stops_at_once_naming_the_first(runs):
    run = runs["in_use"]
    assert run.status == 1, run.output
    assert run.last.startswith(
        f"error: --workdir={run.workdir} is in use by another trainer (pid {os.getpid()} on host "
        f"{socket.gethostname()}, since "
    )
    assert "train 1/" not in run.output and checkpoint_files(run.workdir) == run.before


def test_nonfinite_loss_is_one_line_and_keeps_the_last_good_step(runs):
    run = runs["nonfinite"]
    assert run.status == 1, run.output
    assert run.last.startswith("error: Non-finite loss or gradient at step 2; stopped at step 2. "
                               "The last good checkpoint is step 1.")
    assert steps(run.workdir) == [1]


def test_failed_save_is_one_line_and_leaves_the_checkpoints_as_they_were(runs):
    run = runs["full_disk"]
    assert run.status == 1, run.output
    assert run.last.startswith(
        f"error: Could not save the checkpoint of step 6 in {run.workdir}/checkpoints")
    assert run.last.endswith("The checkpoint of step 4 is left as it was; free disk space or fix "
                             "the directory's permissions, then rerun with the same --workdir to "
                             "resume.")
    assert checkpoint_files(run.workdir) == run.before  # nothing half-written, nothing rotated


def test_ctrl_c_saves_the_step_and_exits_promptly(runs, start, tmp_path):
    workdir = str(tmp_path / "workdir")
    shutil.copytree(runs["trained"].workdir, workdir)
    command = start(workdir, **LONG)
    command.stop(signal.SIGINT)
    run = command.finish()
    assert run.status == 128 + signal.SIGINT, run.output
    assert "Ctrl-C again to exit at once without saving" in run.output
    stopped = int(re.fullmatch(r"Stopped by Ctrl-C \(SIGINT\) at step (\d+) of 100000; saved step "
                               rf"\d+ in {workdir}/checkpoints. Rerun the same command to resume.",
                               run.last)[1])
    assert steps(workdir) == [2, 4, stopped] and stopped > 4
    print(f"Ctrl-C to exit: {run.seconds:.1f} s")
    assert run.seconds < 15


def test_second_ctrl_c_ends_the_process_and_ctrl_c_before_training_interrupts():
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN where the shell started pytest in the background
    with StopSignals() as stop:
        with pytest.raises(KeyboardInterrupt):  # set-up: nothing to save, stop now
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        assert not stop.requested
        stop.training = True
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # the handler runs
        assert stop.signum == signal.SIGINT
        assert signal.getsignal(signal.SIGINT) is signal.SIG_DFL  # the next one ends the process
    assert signal.getsignal(signal.SIGINT) is before
