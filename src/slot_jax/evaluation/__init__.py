"""Held-out evaluation: per-image outputs of each task, their summary, the evaluator and its report.

The trainer imports this package; nothing here imports :mod:`slot_jax.train`.
"""

from slot_jax.evaluation.evaluator import Evaluator
from slot_jax.evaluation.results import read_curve, write_results
from slot_jax.evaluation.summary import summarize, summary_line

__all__ = ["Evaluator", "read_curve", "summarize", "summary_line", "write_results"]
