"""Evaluation results on disk: ``<workdir>/eval/metrics_<step>.json``, written atomically."""

from __future__ import annotations

import glob
import json
import os

Curve = dict[int, dict[str, float]]


def results_path(workdir: str, step: int) -> str:
    """``<workdir>/eval/metrics_<step>.json``."""
    return os.path.join(workdir, "eval", f"metrics_{step}.json")


def write_results(workdir: str, step: int, summary: dict) -> str:
    """Writes ``{"step": step, "metrics": summary}`` to :func:`results_path` atomically; returns it."""
    path = results_path(workdir, step)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump({"step": step, "metrics": summary}, f, indent=2)
    os.replace(path + ".tmp", path)
    return path


def read_curve(workdir: str) -> Curve:
    """Held-out metric means by step, from every ``<workdir>/eval/metrics_<step>.json``."""
    curve = {}
    for path in glob.glob(results_path(workdir, "*")):
        with open(path) as f:
            result = json.load(f)
        curve[int(result["step"])] = {k: v["mean"] for k, v in result["metrics"].items()}
    return dict(sorted(curve.items()))
