"""Trivial segmentations to hold a model's FG-ARI against: one segment, and a fixed grid of K blocks.

A model that discovers objects must beat both on the same held-out images. On sprite data the
fixed grid is a strong baseline when objects are small and spread out (each falls into its own
block), which is why the CPU learning test uses clustered sprites, where it scores 0.28.

Videos with boxes add a third, for conditional models, which are given the first frame's boxes:
``first_frame_boxes``, each object's first-frame box held still in every frame (later objects
over earlier ones, as they are painted). A model that tracks must beat it once objects move.
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


def box_ids(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """int ``[b, H, W]`` ids painted from boxes ``[b, N, 4]`` (``[y0, x0, y1, x1]`` in [0, 1],
    pixel edges): pixel centres inside box ``i`` get ``i + 1``, later boxes over earlier ones; an
    empty (all-zero) box paints nothing."""
    y = (np.arange(height) + 0.5) / height
    x = (np.arange(width) + 0.5) / width
    ids = np.zeros((boxes.shape[0], height, width), np.int32)
    for i in range(boxes.shape[1]):
        y0, x0, y1, x1 = (boxes[:, i, j, None, None] for j in range(4))
        inside = (y0 <= y[:, None]) & (y[:, None] < y1) & (x0 <= x[None, :]) & (x[None, :] < x1)
        ids[inside] = i + 1
    return ids


def batch_scores(
    ids: np.ndarray, num_slots: int, boxes: np.ndarray | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-image ``(fg_ari, mbo)`` of each baseline on true ids ``[b, H, W]`` (or videos
    ``[b, T, H, W]``: the same segments in every frame, scored over the whole clip). ``boxes``
    ``[b, T, N, 4]`` of videos add ``first_frame_boxes``."""
    height, width = ids.shape[-2:]
    predictions = {
        "one_segment": np.zeros_like(ids),
        "grid": np.broadcast_to(grid_ids(height, width, num_slots), ids.shape),
    }
    if boxes is not None:
        first = box_ids(boxes[:, 0], height, width)[:, None]
        predictions["first_frame_boxes"] = np.broadcast_to(first, ids.shape)
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
        boxes = batch["boxes"][batch["padding_mask"]] if ids.ndim == 4 and "boxes" in batch else None
        for name, scores in batch_scores(ids, config.model.num_slots, boxes).items():
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
