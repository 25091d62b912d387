"""Per-image evaluation outputs -> mean, standard error and count per metric; the console line."""

from __future__ import annotations

from typing import Any

import numpy as np

from slot_jax.evaluation.collapse import MULTI_OBJECT_KEYS
from slot_jax.evaluation.set_metrics import ap_at_thresholds


def _mean_sem(values: np.ndarray) -> dict[str, Any]:
    v = np.asarray(values, np.float64)
    n = int(v.size)
    sem = float(v.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    return {"mean": float(v.mean()) if n else float("nan"), "sem": sem, "num_images": n}


def summarize(per_image: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """Mean, standard error and count of each per-image metric over the unpadded images.

    mBO, mIoU and a video's track consistency average over images (videos) holding at least one
    object, the foreground shares of
    :mod:`slot_jax.evaluation.collapse` over images holding two or more. With ``predictions`` and
    ``targets`` (set prediction), adds ``ap_<threshold>`` over all valid images (``sem`` 0).
    """
    valid = np.asarray(per_image["padding_mask"]).astype(bool)
    objects = np.asarray(per_image.get("num_objects", valid.astype(np.float32)))
    subsets = {key: valid & (objects > 0) for key in ("mbo", "miou", "track_consistency")}
    subsets.update({key: valid & (objects >= 2) for key in MULTI_OBJECT_KEYS})
    out = {}
    for key, values in per_image.items():
        if key in ("padding_mask", "num_objects", "predictions", "targets"):
            continue
        out[key] = _mean_sem(np.asarray(values)[subsets.get(key, valid)])
    if "predictions" in per_image:
        aps = ap_at_thresholds(per_image["predictions"][valid], per_image["targets"][valid])
        n = int(valid.sum())
        out.update({k: {"mean": float(v), "sem": 0.0, "num_images": n} for k, v in aps.items()})
    return out


def summary_line(step: int, summary: dict, unit: str = "images") -> str:
    """One console line: each metric's mean ± standard error, and the count of ``unit``
    (images, or videos)."""
    parts = [f"{k} {v['mean']:.4f} ± {v['sem']:.4f}" for k, v in summary.items()]
    n = max(v["num_images"] for v in summary.values())
    return f"eval step {step} ({n} {unit}): " + " | ".join(parts)
