"""The trainer's console progress: a live tqdm bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import collections
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

import tqdm

_BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{postfix}"


def format_eta(seconds: float | None) -> str:
    """``59 s``; ``1:02:03`` under a day; ``12d 03:15`` (days, hours:minutes); ``?`` if unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    if minutes == 0:
        return f"{secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}:{minutes:02d}"


def _number(x: float) -> str:
    return f"{x:.3g}" if x < 1000 else f"{x:.0f}"


def is_terminal(stream) -> bool:
    """A terminal with a width (a pseudo-terminal of size 0, as some CI runners give, is not)."""
    try:
        return bool(stream.isatty()) and os.get_terminal_size(stream.fileno()).columns > 0
    except (AttributeError, OSError, ValueError):  # no isatty or fileno, or a closed stream
        return False


class Progress:
    """Shows step/total, steps/s, examples/s (``unit``: ``img`` or ``videos``), the latest loss,
    the elapsed time and the ETA of a run.

    On a terminal it is a tqdm bar, redrawn on steps (at most every ``min_redraw`` s) and every
    ``refresh`` s by a daemon thread: the loop blocks inside a step, so only a thread can show the
    time passing. Elsewhere (CI, log files) it writes a plain line at the start, at the first step
    and when the first loss is known, every ``interval`` s and at the end. Until the first step it
    says "compiling". Steps/s is measured from the first step on (its compilation left out), over
    the last ``window`` steps.
    ``enabled=False`` (processes other than 0) shows nothing and starts no thread. Use it as a
    context manager, or call :meth:`close`, so that the thread stops on exceptions too.
    """

    def __init__(
        self,
        total: int,
        start: int = 0,
        batch_size: int = 1,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        tty: bool | None = None,
        interval: float = 30.0,
        refresh: float = 2.0,
        min_redraw: float = 0.1,
        window: int = 100,
        clock: Callable[[], float] = time.monotonic,
        desc: str = "train",
        unit: str = "img",
    ):
        self.total, self.batch_size, self.desc, self.unit = total, batch_size, desc, unit
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self.tty = is_terminal(self.stream) if tty is None else tty
        self.interval, self.refresh, self.min_redraw, self.clock = interval, refresh, min_redraw, clock
        self._lock = threading.RLock()
        self._step, self._loss = start, None
        self._points: collections.deque = collections.deque(maxlen=max(window, 2))  # (time, step)
        self._mark = None  # the (time, step) of the previous scalars() call
        self._begun = self._last_shown = clock()
        self._closed = False
        self._bar = None
        self._hooked: list[logging.Handler] = []
        self._stop = threading.Event()
        self._thread = None
        if not enabled:
            return
        if self.tty:
            self._bar = tqdm.tqdm(
                total=total,
                initial=start,
                file=self.stream,
                desc=desc,
                bar_format=_BAR_FORMAT,
                postfix=self._postfix(self._begun),
                dynamic_ncols=True,
                leave=True,
            )
            self._hook_logging()
        else:
            self._write_line(self._begun)
        if refresh > 0:
            self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
            self._thread.start()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, step: int, loss=None) -> None:
        """Step ``step`` was reached; ``loss`` (a float or a ready 0-d array) is the latest known
        loss, or None to keep the previous one. The same step again only updates the loss."""
        if not self.enabled:
            return
        value = None if loss is None else float(loss)
        now = self.clock()
        with self._lock:
            first = not self._points or (self._loss is None and value is not None)
            if value is not None:
                self._loss = value
            if not self._points or step != self._step:
                self._points.append((now, step))
                self._step = step
            self._show(now, force=first)  # the first step and the first loss show at once

    def tick(self) -> None:
        """What the refresh thread calls: redraws the bar, or writes a line if one is due."""
        if self.enabled:
            with self._lock:
                self._show(self.clock(), force=self.tty)

    def scalars(self) -> dict[str, float]:
        """``{"steps_per_s": ...}`` since the previous call (for TensorBoard); ``{}`` at the first
        call (only the compilation would be measured) and when no step was made since."""
        with self._lock:
            if not self._points:
                return {}
            mark, self._mark = self._mark, self._points[-1]
            rate = math.nan if mark is None else self._rate(mark, self._mark)
            return {} if math.isnan(rate) else {"steps_per_s": rate}

    def close(self) -> None:
        """Stops the thread and shows the final state (the step reached, "done" at the end)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=max(self.refresh, 1.0) + 1.0)
        if not self.enabled:
            return
        with self._lock:
            now = self.clock()
            if self._bar is not None:
                self._unhook_logging()
                self._draw(now, end=True)
                self._bar.close()
            else:
                self._write_line(now, end=True)

    # Rendering (under self._lock).

    @staticmethod
    def _rate(first: tuple[float, int], last: tuple[float, int]) -> float:
        (t0, s0), (t1, s1) = first, last
        return (s1 - s0) / (t1 - t0) if s1 > s0 and t1 > t0 else math.nan

    def _fields(self, now: float, end: bool = False) -> list[str]:
        elapsed = f"elapsed {format_eta(now - self._begun)}"
        if not self._points:
            return ["stopped" if end else "compiling", elapsed]
        rate = self._rate(self._points[0], self._points[-1])
        if math.isnan(rate):
            fields = ["? steps/s", f"? {self.unit}/s"]
        else:
            per_step = f" ({_number(1 / rate)} s/step)" if rate < 1 else ""
            examples = f"{_number(rate * self.batch_size)} {self.unit}/s"
            fields = [f"{_number(rate)} steps/s{per_step}", examples]
        fields.append("loss ?" if self._loss is None else f"loss {self._loss:.5g}")
        fields.append(elapsed)
        if end:
            fields.append("done" if self._step >= self.total else "stopped")
        else:
            fields.append(f"ETA {format_eta(self._eta(now))}")
        return fields

    def _eta(self, now: float) -> float | None:
        if not self._points:
            return None
        rate = self._rate(self._points[0], self._points[-1])
        if math.isnan(rate):
            return None
        since = min(now - self._points[-1][0], 1 / rate)  # counts down within a step
        return max((self.total - self._step) / rate - since, 0.0)

    def eta(self) -> float | None:
        """Seconds to the last step at the measured rate; None until two steps are timed."""
        with self._lock:
            return self._eta(self.clock())

    def _postfix(self, now: float, end: bool = False) -> str:
        return ", ".join(self._fields(now, end))

    def _show(self, now: float, force: bool) -> None:
        due = self.min_redraw if self.tty else self.interval
        if self._closed or not (force or now - self._last_shown >= due):
            return
        if self._bar is not None:
            self._draw(now)
        else:
            self._write_line(now)

    def _draw(self, now: float, end: bool = False) -> None:
        self._bar.n = self._step
        self._bar.set_postfix_str(self._postfix(now, end), refresh=False)
        self._bar.refresh()
        self._last_shown = now

    def _write_line(self, now: float, end: bool = False) -> None:
        percent = int(100 * self._step / self.total) if self.total else 100
        head = f"{self.desc} {self._step}/{self.total} ({percent}%)"
        self.stream.write(" | ".join([head, *self._fields(now, end)]) + "\n")
        self.stream.flush()
        self._last_shown = now

    def _run(self) -> None:
        while not self._stop.wait(self.refresh):
            try:
                self.tick()
            except (OSError, ValueError):  # the stream was closed under us: stop showing
                return

    # Log records written to the bar's stream would land on the bar's line: clear it first (it is
    # redrawn at the next step or tick). Not self._lock: a SIGTERM handler may log inside update().

    def _clear_bar(self, record) -> bool:
        self._bar.clear()
        return True

    def _hook_logging(self) -> None:
        for handler in logging.getLogger().handlers:
            target = getattr(handler, "python_handler", handler)  # absl's handler wraps a stream one
            if getattr(target, "stream", None) is self.stream:
                handler.addFilter(self._clear_bar)
                self._hooked.append(handler)

    def _unhook_logging(self) -> None:
        for handler in self._hooked:
            handler.removeFilter(self._clear_bar)
        self._hooked = []
