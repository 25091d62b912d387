"""Held-out evaluation: the metrics (``metrics.py``, ``set_metrics.py``), the trivial baselines, slot
grids and PNGs (``visualize.py``), per-image outputs of each task, their summary, the evaluator and
its report.

The trainer imports this package; nothing here imports :mod:`slot_jax.train`. The names below load
on first use, so ``from slot_jax.evaluation.metrics import ...`` imports neither the evaluator nor
TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

# Each public name -> the module that defines it.
_SOURCES = {
    "Evaluator": "evaluator",
    "read_curve": "results",
    "summarize": "summary",
    "summary_line": "summary",
    "write_results": "results",
}

__all__ = sorted(_SOURCES)


def __getattr__(name: str) -> Any:
    if name not in _SOURCES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_SOURCES[name]}"), name)
