"""SIGTERM and Ctrl-C (SIGINT) stop training after the current step, which is then saved.

:class:`StopSignals` turns either signal into a flag the loop checks after each step; the loop
saves the step reached and raises :class:`TrainingStopped`, which the command line prints as one
line. Before the first step (data preparation, compilation, restoring) Ctrl-C has nothing to save
and interrupts at once, as it normally does. A second Ctrl-C ends the process at once, without
saving (the signal's default action): orbax's temporary directory of a save cut short is ignored,
and removed by the next run.
"""

from __future__ import annotations

import signal
from types import FrameType

from absl import logging

NAMES = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "Ctrl-C (SIGINT)"}


class TrainingStopped(KeyboardInterrupt):
    """Training stopped on a signal after saving the step reached; ``signum`` is the signal."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum


class StopSignals:
    """Catches SIGTERM and SIGINT in the block (a context manager); ``signum`` is the first one
    received (None before), and ``training`` is set by the loop once its first step runs.

    Outside the main thread no handler can be installed, and the signals keep their handlers.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.training = False
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self.signum is not None

    def __enter__(self) -> StopSignals:
        for signum in NAMES:
            try:
                self._previous[signum] = signal.signal(signum, self._handle)
            except ValueError:  # not in the main thread
                pass
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT:
            if not self.training:
                raise KeyboardInterrupt
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl-C ends the process
        if self.signum is not None:
            return
        self.signum = signum
        again = " (Ctrl-C again to exit at once without saving)" if signum == signal.SIGINT else ""
        logging.warning("%s received: stopping after the current step and saving it%s.",
                        NAMES[signum], again)

    def __exit__(self, *exc) -> None:
        for signum, previous in self._previous.items():
            if previous is not None:  # None: not installed from Python, nothing to put back
                signal.signal(signum, previous)
