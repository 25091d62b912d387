"""Trivial segmentations to hold a model's FG-ARI against: one segment, and a fixed grid of K blocks.

A model that discovers objects must beat both on the same held-out images. On sprite data the
fixed grid is a strong baseline when objects are small and spread out (each falls into its own
block), which is why the CPU learning test uses clustered sprites, where it scores 0.28.
"""

from __future__ import annotations

import math

import ml_collections
import numpy as np

from slot_jax.data.dataset import Dataset
from slot_jax.data.iterators import eval_iterator
from slot_jax.evaluation.metrics import adjusted_rand_index, mean_best_overlap


def grid_ids(height: int, width: int, num_blocks: int) -> np.ndarray:
    """int ``[H, W]`` ids of a fixed grid of ``num_blocks`` near-square blocks (2x2 for 4, 2x3 for 6)."""
    rows = max(r for r in range(1, math.isqrt(num_blocks) + 1) if num_blocks % r == 0)
    cols = num_blocks // rows
    y = np.arange(height)[:, None] * rows // height
    x = np.arange(width)[None, :] * cols // width
    return (y * cols + x).astype(np.int32)


def _batch_scores(ids: np.ndarray, num_slots: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-image ``(fg_ari, mbo)`` of each baseline on true ids ``[b, H, W]`` (or videos
    ``[b, T, H, W]``: the same segments in every frame, scored over the whole clip)."""
    height, width = ids.shape[-2:]
    predictions = {
        "one_segment": np.zeros_like(ids),
        "grid": np.broadcast_to(grid_ids(height, width, num_slots), ids.shape),
    }
    return {
        name: (np.asarray(adjusted_rand_index(ids, pred, ignore_background=True)),
               np.asarray(mean_best_overlap(ids, pred)))
        for name, pred in predictions.items()
    }


def baseline_scores(
    config: ml_collections.ConfigDict, dataset: Dataset | None = None
) -> dict[str, dict[str, float]]:
    """Held-out ``{"fg_ari", "mbo"}`` means of ``one_segment`` (every pixel alike) and ``grid`` (K
    fixed blocks) over every held-out image, read exactly as the evaluator reads them, batch by
    batch; each is averaged over the images the evaluator averages it over (mBO: images holding an
    object). ``dataset``: ``config.data``, resolved (default: resolved here)."""
    batches = eval_iterator(
        config.data if dataset is None else dataset, global_batch_size=config.eval_batch_size,
        num_examples=config.data.get("eval_examples"),
    )
    per_image: dict[str, list] = {}
    has_objects = []
    for batch in batches:
        ids = batch["ids"][batch["padding_mask"]]
        has_objects.append((ids > 0).reshape(len(ids), -1).any(axis=1))
        for name, scores in _batch_scores(ids, config.model.num_slots).items():
            per_image.setdefault(name, []).append(scores)
    objects = np.concatenate(has_objects)
    out = {}
    for name, parts in per_image.items():
        fg_ari, mbo = (np.concatenate(x) for x in zip(*parts, strict=True))
        out[name] = {"fg_ari": float(np.mean(fg_ari)), "mbo": float(np.mean(mbo[objects]))}
    return out


def baseline_fg_aris(config: ml_collections.ConfigDict) -> dict[str, float]:
    """Mean held-out FG-ARI of each baseline of :func:`baseline_scores`."""
    return {name: scores["fg_ari"] for name, scores in baseline_scores(config).items()}
