"""The warning for a CPU run that its own ETA puts at more than a day (train/slow_run.py), and the
ETA it reads (Progress.eta)."""

import io

from slot_jax.lib.progress import Progress
from slot_jax.train.slow_run import QUICKSTART, SLOW_RUN_S, slow_run_warning


def test_a_cpu_run_of_more_than_a_day_is_warned_about_once_named():
    line = slow_run_warning(47 * 86_400.0, "cpu", 499_995)
    assert line is not None and "\n" not in line
    assert "499,995 steps take 47d 00:00" in line and f"--config={QUICKSTART}" in line
    assert slow_run_warning(SLOW_RUN_S, "cpu", 10) is None  # a day is fine
    assert slow_run_warning(47 * 86_400.0, "gpu", 10) is None
    assert slow_run_warning(None, "cpu", 10) is None  # not timed yet


def test_progress_eta_is_the_remaining_steps_at_the_measured_rate():
    now = [100.0]
    progress = Progress(1_000, stream=io.StringIO(), tty=False, refresh=0, clock=lambda: now[0])
    assert progress.eta() is None
    progress.update(1)  # the first step: compiled
    assert progress.eta() is None  # one point: no rate yet
    now[0] += 8.0
    progress.update(2)
    assert progress.eta() == 998 * 8.0  # 8 s a step, just stepped
    now[0] += 3.0
    assert progress.eta() == 998 * 8.0 - 3.0  # counts down within a step
    progress.close()
