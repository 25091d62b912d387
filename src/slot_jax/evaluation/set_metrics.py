"""Average precision of CLEVR property predictions, as the official Slot Attention evaluation.

Predictions and targets use the 19-d layout of :mod:`slot_jax.properties`. Over the whole
evaluation set, predictions are ranked by objectness (the last dim, highest first). A prediction
is matched to the nearest (in 3-D, original units) real ground-truth object of its image whose four
discrete attributes (argmax of size, material, shape and colour) all equal its own. It is a true
positive if such an object exists, lies strictly closer than the distance threshold, and was not
already detected by a higher-ranked prediction; otherwise it is a false positive (an
already-detected nearest object makes it a false positive even if another matching object is
free). AP is the VOC-style area under the interpolated precision/recall curve; recall is relative
to the sum of the targets' objectness.

The official code loops over predictions in Python; this is the same computation, vectorised in
numpy (ranking ties are broken as ``np.argsort(objectness)[::-1]`` breaks them, as there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from slot_jax.properties import (
    COORD_SCALE,
    DISCRETE_PROPERTIES,
    OBJECTNESS_INDEX,
    PROPERTY_SLICES,
)

# The paper's distance thresholds (original CLEVR units); inf ignores the distance.
AP_THRESHOLDS: tuple[float, ...] = (math.inf, 1.0, 0.5, 0.25, 0.125)
# The official code ignores matches at or beyond this distance (its initial "best distance").
_MAX_DISTANCE = 10_000.0


def _attributes(x: np.ndarray) -> np.ndarray:
    """``[..., 19] -> int [..., 4]``: the argmax of each discrete property."""
    return np.stack([np.argmax(x[..., PROPERTY_SLICES[p]], axis=-1) for p in DISCRETE_PROPERTIES], -1)


def interpolated_average_precision(precision: np.ndarray, recall: np.ndarray) -> float:
    """VOC-style AP: the area under the precision envelope, as ``compute_average_precision``.

    Args:
      precision, recall: ``[n]``, in ranking order (recall non-decreasing).

    Returns:
      The sum over recall steps of ``(r[i+1] - r[i]) * max(precision at recall >= r[i+1])``, with
      the curve extended by ``(recall 0, precision 0)`` in front and ``(recall 1, precision 0)``
      at the end.
    """
    recall = np.concatenate([[0.0], np.asarray(recall, np.float64), [1.0]])
    precision = np.concatenate([[0.0], np.asarray(precision, np.float64), [0.0]])
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum(envelope[steps + 1] * (recall[steps + 1] - recall[steps])))


def average_precision(
    predictions: np.ndarray, targets: np.ndarray, distance_threshold: float
) -> float:
    """AP of a set of property predictions (see the module docstring).

    Args:
      predictions: ``[N_img, K, 19]``; the last dim is the confidence (objectness).
      targets: ``[N_img, M, 19]`` from :func:`slot_jax.data.targets.set_prediction_targets`;
        padding rows have objectness 0.
      distance_threshold: in original CLEVR units (the coordinate dims times 6); a match needs a
        distance strictly below it. ``-1`` or ``inf`` ignores the distance.

    Returns:
      AP in [0, 1].
    """
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    if predictions.ndim != 3 or targets.ndim != 3 or predictions.shape[::2] != targets.shape[::2]:
        raise ValueError(
            f"predictions {predictions.shape} and targets {targets.shape} must be [N_img, K, P] "
            "with the same N_img and P."
        )
    num_real = np.sum(targets[:, :, OBJECTNESS_INDEX])
    if num_real <= 0:
        raise ValueError("The targets hold no real objects; AP is undefined.")
    num_images, k, _ = predictions.shape

    coords = PROPERTY_SLICES["3d_coords"]
    # [N_img, K, M]: distance of prediction k to target m, where all attributes agree.
    distance = np.linalg.norm(
        (targets[:, None, :, coords] - predictions[:, :, None, coords]) * COORD_SCALE, axis=-1
    )
    same = np.all(_attributes(predictions)[:, :, None] == _attributes(targets)[:, None], axis=-1)
    real = targets[:, None, :, OBJECTNESS_INDEX] != 0
    distance = np.where(same & real & (distance < _MAX_DISTANCE), distance, np.inf)
    best_id = np.argmin(distance, axis=-1).reshape(-1)  # first nearest, as a strict "<" scan
    best = np.min(distance, axis=-1).reshape(-1)

    order = np.argsort(predictions[:, :, -1].reshape(-1), axis=0)[::-1]
    best_id, best = best_id[order], best[order]
    image = order // k
    hit = np.isfinite(best)
    if distance_threshold != -1:
        hit &= best < distance_threshold
    # A hit is a true positive if it is the first (highest-ranked) hit on its ground-truth object.
    object_key = np.where(hit, image * targets.shape[1] + best_id, -1)
    _, first = np.unique(object_key, return_index=True)
    true_positive = np.zeros(num_images * k, bool)
    true_positive[first] = True
    true_positive &= hit

    tp = np.cumsum(true_positive)
    fp = np.cumsum(~true_positive)
    recall = (tp / num_real).astype(np.float32)
    precision = (tp / (tp + fp)).astype(np.float32)
    return interpolated_average_precision(precision, recall)


def ap_key(threshold: float) -> str:
    """The metric name of a threshold: ``ap_inf``, ``ap_1``, ``ap_0.5``, ``ap_0.25``, ``ap_0.125``."""
    return "ap_inf" if threshold in (-1, math.inf) else f"ap_{threshold:g}"


def ap_at_thresholds(
    predictions: np.ndarray,
    targets: np.ndarray,
    thresholds: Sequence[float] = AP_THRESHOLDS,
) -> dict[str, float]:
    """``{ap_key(t): average_precision(predictions, targets, t)}`` for the paper's thresholds.

    Args:
      predictions: ``[N_img, K, 19]``.
      targets: ``[N_img, M, 19]``.
      thresholds: distances in original CLEVR units (default ``inf, 1, 0.5, 0.25, 0.125``).
    """
    return {ap_key(t): average_precision(predictions, targets, t) for t in thresholds}
