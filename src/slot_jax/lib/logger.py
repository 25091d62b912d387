"""TensorBoard (tensorboardX) and console logging for the trainer."""

from __future__ import annotations

import os
import time

import numpy as np
from absl import logging
from tensorboardX import SummaryWriter


class Logger:
    """Writes scalars and images under ``<workdir>/<name>`` and prints a progress line.

    Only process 0 writes; other processes get a logger that does nothing.
    """

    def __init__(self, workdir: str, name: str, enabled: bool = True):
        self.enabled = enabled
        self.writer = SummaryWriter(os.path.join(workdir, name)) if enabled else None
        self._last_time, self._last_step = time.time(), None

    def start(self, step: int) -> None:
        """Marks the step the progress rate is measured from."""
        self._last_time, self._last_step = time.time(), step

    def scalars(self, step: int, values: dict[str, float]) -> None:
        """Writes each ``name: value`` at ``step``."""
        if self.enabled:
            for k, v in values.items():
                self.writer.add_scalar(k, float(v), step)

    def image(self, step: int, tag: str, image: np.ndarray) -> None:
        """``image`` uint8 ``[H, W, 3]``."""
        if self.enabled:
            self.writer.add_image(tag, image, step, dataformats="HWC")

    def progress(self, step: int, total: int, loss: float) -> float:
        """Logs ``step, loss, steps/s, ETA``; returns steps/s since the previous call."""
        now = time.time()
        if self._last_step is None:
            rate = 0.0
        else:
            rate = (step - self._last_step) / max(now - self._last_time, 1e-9)
        self._last_time, self._last_step = now, step
        eta = (total - step) / rate if rate > 0 else float("nan")
        eta_text = "?" if not np.isfinite(eta) else time.strftime("%H:%M:%S", time.gmtime(eta))
        logging.info(
            "step %d/%d | loss %.5f | %.2f steps/s | ETA %s", step, total, loss, rate, eta_text
        )
        return rate

    def flush(self) -> None:
        """Flushes pending events to disk."""
        if self.enabled:
            self.writer.flush()

    def close(self) -> None:
        """Flushes and closes the event file."""
        if self.enabled:
            self.writer.close()
