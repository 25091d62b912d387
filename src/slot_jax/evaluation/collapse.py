"""Collapse diagnostics: does each object get a slot of its own, or did the slots collapse?

A collapsed object-discovery run looks healthy in its loss: one slot draws every object of the
image (a blurred cluster), or several slots copy one another, and reconstruction stays good. These
per-image numbers, averaged in every evaluation, make it visible (DESIGN.md §8; the thresholds were
measured in ``experiments/learning_test/README.md``):

* ``slots_used``: slots that own at least :data:`USED_SHARE` of the image's pixels in the argmax
  segmentation. No ground truth needed.
* ``duplicate_slots``: slots whose soft mask nearly repeats another's (Tanimoto similarity
  ``<a, b> / (|a|^2 + |b|^2 - <a, b>) >= DUPLICATE_SIMILARITY``), among slots whose mean mask is
  at least :data:`USED_SHARE` (an exact copy loses every argmax pixel to its twin, so argmax
  ownership cannot be asked of it). Where the dataset has ids, masks are compared on the
  foreground only: with more slots than objects, the spare slots share the background, as in the
  paper, and only slots smeared over the same objects count. Without ids, over the whole image.
* ``fg_largest_slot``: the largest slot's share of the foreground (true id > 0) in the argmax
  segmentation; ``fg_largest_object`` is the largest true object's share, the value a perfect
  segmentation gives. Both are averaged over images with two or more objects only (one object
  fills the foreground by definition), and need ground-truth ids.

:func:`collapse_warning` turns a summary into one plain warning line, or ``None``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

USED_SHARE = 0.01
DUPLICATE_SIMILARITY = 0.5
# Collapse: on images with >= 2 objects, the largest slot holds this much more of the foreground
# than the largest object does (mean over images: objects merged into one slot), or this share of
# the K slots duplicates another slot (mean per image: slots smeared over the same objects).
EXCESS_FG_SHARE = 0.2
DUPLICATE_FRACTION = 0.5

MULTI_OBJECT_KEYS = ("fg_largest_slot", "fg_largest_object")


def mask_usage(
    masks: jax.Array, pred_ids: jax.Array, foreground: jax.Array | None = None
) -> dict[str, jax.Array]:
    """``slots_used`` and ``duplicate_slots`` ``[B]`` of soft masks ``[B, K, ...]`` and their
    argmax ids ``[B, ...]`` (padded pixels, if any, count as pixels). With a ``foreground``
    ``[B, ...]`` (bool), duplicates are measured on its pixels only."""
    b, k = masks.shape[:2]
    soft = masks.reshape(b, k, -1).astype(jnp.float32)
    counts = jax.nn.one_hot(pred_ids.reshape(b, -1), k, dtype=jnp.float32).sum(axis=1)  # [B, K]
    used = counts >= USED_SHARE * soft.shape[-1]
    region = jnp.ones((b, 1, soft.shape[-1])) if foreground is None else (
        foreground.reshape(b, 1, -1).astype(jnp.float32))
    soft = soft * region
    dot = jnp.einsum("bkn,bjn->bkj", soft, soft, precision=jax.lax.Precision.HIGHEST)
    sq = jnp.diagonal(dot, axis1=1, axis2=2)
    similarity = dot / jnp.maximum(sq[:, :, None] + sq[:, None, :] - dot, 1e-12)
    # A duplicate may own no argmax pixel at all, so presence is asked of the soft mask.
    present = soft.sum(axis=-1) >= USED_SHARE * jnp.maximum(region.sum(axis=-1), 1.0)
    pair = (similarity >= DUPLICATE_SIMILARITY) & present[:, :, None] & present[:, None, :]
    pair = pair & ~jnp.eye(k, dtype=bool)
    return {
        "slots_used": used.sum(axis=1).astype(jnp.float32),
        "duplicate_slots": pair.any(axis=2).sum(axis=1).astype(jnp.float32),
    }


def foreground_usage(table: jax.Array) -> dict[str, jax.Array]:
    """``fg_largest_slot`` and ``fg_largest_object`` ``[B]`` of contingency tables ``[B, T, P]``
    (true id 0 is the background); 0 for images without foreground."""
    fg = table[:, 1:, :]
    total = jnp.maximum(fg.sum(axis=(1, 2)), 1.0)
    return {
        "fg_largest_slot": fg.sum(axis=1).max(axis=1) / total,
        "fg_largest_object": fg.sum(axis=2).max(axis=1) / total,
    }


def collapse_warning(summary: dict, num_slots: int) -> str | None:
    """One warning line when the evaluation ``summary`` (metric -> {"mean", ...}) of a model with
    ``num_slots`` slots looks collapsed, else ``None``."""
    mean = {k: v["mean"] for k, v in summary.items()}
    seen = []
    if "fg_largest_slot" in mean and summary["fg_largest_slot"]["num_images"]:
        excess = mean["fg_largest_slot"] - mean["fg_largest_object"]
        if excess >= EXCESS_FG_SHARE:
            seen.append(
                f"one slot holds {mean['fg_largest_slot']:.0%} of the foreground of multi-object "
                f"images, where the largest object covers {mean['fg_largest_object']:.0%}"
            )
    if mean.get("duplicate_slots", 0.0) >= DUPLICATE_FRACTION * num_slots:
        seen.append(f"{mean['duplicate_slots']:.1f} of {num_slots} slots per image duplicate "
                    "another slot's mask")
    if not seen:
        return None
    return (
        "Slots look collapsed: " + "; ".join(seen) + ". Early in training this is normal; if it "
        "persists, look at the slot grid, and try wider encoder/decoder features, a larger batch "
        "or another seed."
    )
