"""The console progress: ETA text, plain lines off a terminal, the bar on one, the refresh thread."""

import io
import logging
import math
import os
import re
import struct
import time

import jax
import pytest
import tensorflow as tf
from conftest import tiny_train_config

from slot_jax.lib.progress import Progress, format_eta
from slot_jax.train import train


class FakeClock:
    def __init__(self, now: float = 0.0, step: float = 0.0):
        self.now, self.step = now, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0, "0 s"),
        (59, "59 s"),
        (59.6, "0:01:00"),
        (62, "0:01:02"),
        (3723, "1:02:03"),
        (86_399, "23:59:59"),
        (86_400, "1d 00:00"),
        (12 * 86_400 + 3 * 3600 + 15 * 60 + 40, "12d 03:15"),
        (190 * 86_400 + 5, "190d 00:00"),
        (math.nan, "?"),
        (math.inf, "?"),
        (-1, "?"),
        (None, "?"),
    ],
)
def test_format_eta(seconds, text):
    assert format_eta(seconds) == text


def _plain(clock, total=1000, **kwargs):
    stream = io.StringIO()
    kwargs = dict(batch_size=16, stream=stream, tty=False, interval=30, refresh=0, clock=clock) | kwargs
    return Progress(total, **kwargs), stream


def _lines(stream) -> list[str]:
    return stream.getvalue().splitlines()


def test_plain_lines_at_the_interval_with_every_field():
    clock = FakeClock()
    progress, stream = _plain(clock)
    assert _lines(stream) == ["train 0/1000 (0%) | compiling | elapsed 0 s"]
    clock.now = 20
    progress.tick()  # not due yet
    clock.now = 40
    progress.tick()
    assert _lines(stream)[-1] == "train 0/1000 (0%) | compiling | elapsed 40 s"
    clock.now = 50
    progress.update(1, 2.5)  # the first step shows at once
    assert _lines(stream)[-1] == (
        "train 1/1000 (0%) | ? steps/s | ? img/s | loss 2.5 | elapsed 50 s | ETA ?"
    )
    assert progress.scalars() == {}  # only the compilation would be measured
    for step in range(2, 17):  # a step every 2 s: no line until 30 s after the last one
        clock.now = 50 + 2 * (step - 1)
        progress.update(step, 2.0 - step / 100)
    assert len(_lines(stream)) == 4
    assert _lines(stream)[-1] == (
        "train 16/1000 (1%) | 0.5 steps/s (2 s/step) | 8 img/s | loss 1.84 | elapsed 0:01:20 | "
        "ETA 0:32:48"
    )
    assert progress.scalars() == {"steps_per_s": pytest.approx(0.5)}
    clock.now = 85
    progress.tick()
    assert len(_lines(stream)) == 4
    clock.now = 110  # no step for 30 s: a line anyway
    progress.tick()
    assert _lines(stream)[-1].endswith("| elapsed 0:01:50 | ETA 0:32:46")
    assert progress.scalars() == {}  # no step since the previous call
    progress.close()
    assert _lines(stream)[-1].endswith("| loss 1.84 | elapsed 0:01:50 | stopped")
    progress.close()
    assert len(_lines(stream)) == 6


def test_eta_counts_down_within_a_step_by_one_step_at_most():
    clock = FakeClock()
    progress, stream = _plain(clock, total=100, interval=0)
    progress.update(1, 1.0)
    clock.now = 2.0
    progress.update(2, 1.0)  # 0.5 steps/s, 98 steps to go
    for now, eta in [(2.0, "0:03:16"), (3.0, "0:03:15"), (4.0, "0:03:14"), (60.0, "0:03:14")]:
        clock.now = now
        progress.tick()
        assert _lines(stream)[-1].endswith(f"| ETA {eta}")


def test_plain_eta_over_days_and_done():
    clock = FakeClock()
    progress, stream = _plain(clock, total=1_000_000, start=500, batch_size=64)
    assert _lines(stream) == ["train 500/1000000 (0%) | compiling | elapsed 0 s"]
    clock.now = 100.0
    progress.update(501)  # resumed: the first step shows at once, and again with its loss
    assert (
        _lines(stream)[-1]
        == "train 501/1000000 (0%) | ? steps/s | ? img/s | loss ? | elapsed 0:01:40 | ETA ?"
    )
    clock.now = 101.0
    progress.update(501, 0.01)
    assert _lines(stream)[-1].startswith("train 501/1000000 (0%) | ? steps/s | ? img/s | loss 0.01 |")
    clock.now = 117.0  # 17 s a step
    progress.update(502, 0.01)
    assert len(_lines(stream)) == 3
    clock.now = 147.0
    progress.tick()
    assert _lines(stream)[-1] == (
        "train 502/1000000 (0%) | 0.0588 steps/s (17 s/step) | 3.76 img/s | loss 0.01 | "
        "elapsed 0:02:27 | ETA 196d 15:50"
    )
    progress, stream = _plain(clock, total=2)
    progress.update(1)
    progress.update(2, 0.25)
    progress.close()
    assert _lines(stream)[-1].startswith("train 2/2 (100%) |")
    assert _lines(stream)[-1].endswith("| loss 0.25 | elapsed 0 s | done")


def test_tty_bar_says_compiling_then_shows_steps():
    clock = FakeClock()
    stream = io.StringIO()
    progress = Progress(60, batch_size=8, stream=stream, tty=True, refresh=0, clock=clock)
    text = stream.getvalue()
    assert "\r" in text and "0/60" in text and "compiling, elapsed 0 s" in text
    assert "\n" not in text  # one line, redrawn
    clock.now = 12
    progress.update(1, 0.5)
    text = stream.getvalue().rsplit("\r", 1)[-1]
    assert "1/60" in text and "loss 0.5" in text and "compiling" not in text
    for step in range(2, 61):
        clock.now = 12 + (step - 1) * 0.5
        progress.update(step, 0.25)
    progress.close()
    text = stream.getvalue()
    assert text.endswith("\n")
    last = text.rstrip("\n").rsplit("\r", 1)[-1]
    assert "100%" in last and "60/60" in last
    assert "2 steps/s, 16 img/s, loss 0.25, elapsed 42 s, done" in last


def test_a_terminal_needs_a_width():
    termios = pytest.importorskip("termios")
    fcntl = pytest.importorskip("fcntl")
    master, slave = os.openpty()
    with os.fdopen(slave, "w") as stream:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
        assert not Progress(10, stream=stream, refresh=0, enabled=False).tty  # plain lines
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        assert Progress(10, stream=stream, refresh=0, enabled=False).tty
        assert not Progress(10, stream=io.StringIO(), refresh=0, enabled=False).tty
    os.close(master)


def test_tty_bar_is_cleared_for_log_records():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with Progress(10, stream=stream, tty=True, refresh=0):
            root.warning("a log line")
        assert handler.filters == []
    finally:
        root.removeHandler(handler)
    before, after = stream.getvalue().split("a log line")
    assert before.endswith("\r") and "0/10" in before  # the bar was cleared, then the record
    assert after.startswith("\n")


@pytest.mark.parametrize("tty", [True, False])
def test_refresh_thread_updates_between_steps_and_stops_on_close(tty):
    stream = io.StringIO()
    clock = FakeClock(step=1.0)  # each reading 1 s later: every redraw shows a new elapsed time
    with pytest.raises(KeyboardInterrupt):
        with Progress(10, stream=stream, tty=tty, interval=1.0, refresh=0.01, clock=clock) as progress:
            deadline = time.monotonic() + 10
            while stream.getvalue().count("compiling") < 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            raise KeyboardInterrupt  # an exception in the loop stops the thread too
    assert stream.getvalue().count("compiling") >= 4
    assert not progress._thread.is_alive()
    size = len(stream.getvalue())
    time.sleep(0.05)
    assert len(stream.getvalue()) == size


def test_disabled_shows_nothing():
    stream = io.StringIO()
    quiet = Progress(10, stream=stream, tty=True, enabled=False, refresh=0.01)
    quiet.update(1, 1.0)
    quiet.close()
    assert quiet._thread is None and stream.getvalue() == "" and quiet.scalars() == {}


def _scalars(workdir, tag):
    event_dir = os.path.join(workdir, "train")
    return {
        event.step: value.simple_value
        for name in sorted(os.listdir(event_dir))
        for event in tf.compat.v1.train.summary_iterator(os.path.join(event_dir, name))
        for value in event.summary.value
        if value.tag == tag
    }


def test_train_shows_the_first_step_and_the_end(tfds_dir, tmp_path, capfd):
    config = tiny_train_config(tfds_dir, log_every=100)  # the reference run's steps, cached
    train(config, str(tmp_path), devices=jax.devices()[:1])
    lines = [line for line in capfd.readouterr().err.splitlines() if line.startswith("train ")]
    assert lines[0].startswith("train 0/4 (0%) | compiling")
    assert lines[1].startswith("train 1/4 (25%) | ? steps/s | ? img/s | loss ? | elapsed ")
    assert re.match(r"train 1/4 \(25%\) \| \? steps/s \| \? img/s \| loss \d", lines[2])  # step 1 ran
    assert lines[-1].startswith("train 4/4 (100%) | ") and lines[-1].endswith(" | done")
    assert " steps/s | " in lines[-1] and "? steps/s" not in lines[-1]
    assert set(_scalars(str(tmp_path), "steps_per_s")) == {4}  # not at step 1: compilation
