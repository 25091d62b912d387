"""TensorBoard (tensorboardX) logging for training and evaluation (the console progress is in
``progress.py``)."""

from __future__ import annotations

import os

import numpy as np
from tensorboardX import SummaryWriter


class Logger:
    """Writes scalars and images under ``<workdir>/<name>``.

    Only process 0 writes; other processes get a logger that does nothing.
    """

    def __init__(self, workdir: str, name: str, enabled: bool = True):
        self.enabled = enabled
        self.writer = SummaryWriter(os.path.join(workdir, name)) if enabled else None

    def scalars(self, step: int, values: dict[str, float]) -> None:
        """Writes each ``name: value`` at ``step``."""
        if self.enabled:
            for k, v in values.items():
                self.writer.add_scalar(k, float(v), step)

    def image(self, step: int, tag: str, image: np.ndarray) -> None:
        """``image`` uint8 ``[H, W, 3]``."""
        if self.enabled:
            self.writer.add_image(tag, image, step, dataformats="HWC")

    def flush(self) -> None:
        """Flushes pending events to disk."""
        if self.enabled:
            self.writer.flush()

    def close(self) -> None:
        """Flushes and closes the event file."""
        if self.enabled:
            self.writer.close()
