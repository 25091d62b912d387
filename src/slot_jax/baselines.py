"""Trivial segmentations to hold a model's FG-ARI against: one segment, and a fixed grid of K blocks.

A model that discovers objects must beat both on the same held-out images. On sprite data the
fixed grid is a strong baseline when objects are small and spread out (each falls into its own
block), which is why the CPU learning test uses clustered sprites, where it scores 0.28.
"""

from __future__ import annotations

import math

import ml_collections
import numpy as np

from slot_jax.data.iterators import eval_iterator
from slot_jax.metrics import adjusted_rand_index, mean_best_overlap


def grid_ids(height: int, width: int, num_blocks: int) -> np.ndarray:
    """int ``[H, W]`` ids of a fixed grid of ``num_blocks`` near-square blocks (2x2 for 4, 2x3 for 6)."""
    rows = max(r for r in range(1, math.isqrt(num_blocks) + 1) if num_blocks % r == 0)
    cols = num_blocks // rows
    y = np.arange(height)[:, None] * rows // height
    x = np.arange(width)[None, :] * cols // width
    return (y * cols + x).astype(np.int32)


def held_out_ids(config: ml_collections.ConfigDict) -> np.ndarray:
    """True ids ``[N, H, W]`` of every held-out image, exactly as the evaluator reads them."""
    batches = eval_iterator(
        config.data, global_batch_size=config.eval_batch_size,
        num_examples=config.data.get("eval_examples"),
    )
    return np.concatenate([b["ids"][b["padding_mask"]] for b in batches])


def baseline_scores(config: ml_collections.ConfigDict) -> dict[str, dict[str, float]]:
    """Held-out ``{"fg_ari", "mbo"}`` means of ``one_segment`` (every pixel alike) and ``grid`` (K
    fixed blocks), each averaged over the images the evaluator averages it over (mBO: images
    holding an object)."""
    ids = held_out_ids(config)
    height, width = ids.shape[1:]
    has_objects = (ids > 0).reshape(len(ids), -1).any(axis=1)
    predictions = {
        "one_segment": np.zeros_like(ids),
        "grid": np.broadcast_to(grid_ids(height, width, config.model.num_slots), ids.shape),
    }
    return {
        name: {
            "fg_ari": float(np.mean(adjusted_rand_index(ids, pred, ignore_background=True))),
            "mbo": float(np.mean(np.asarray(mean_best_overlap(ids, pred))[has_objects])),
        }
        for name, pred in predictions.items()
    }


def baseline_fg_aris(config: ml_collections.ConfigDict) -> dict[str, float]:
    """Mean held-out FG-ARI of each baseline of :func:`baseline_scores`."""
    return {name: scores["fg_ari"] for name, scores in baseline_scores(config).items()}
