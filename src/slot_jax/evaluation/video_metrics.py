"""Video metrics: segmentation over the whole clip, and how well each conditioned slot tracks its
object.

* :func:`clip_masks`: a video model's masks ``[B, T, K, H, W, 1]`` as one segmentation of the
  clip, ``[B, K, T, H, W, 1]``, so :mod:`slot_jax.evaluation.metrics` pools every frame's pixels of
  a video into one contingency table: video ARI, FG-ARI and mBO, in which a slot that switches
  objects between frames loses score (SAVi's metrics).
* :func:`track_consistency`: per video, the share of frames in which the slot conditioned on an
  object is the one covering most of it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from slot_jax.evaluation.metrics import contingency_table


def clip_masks(masks: jax.Array) -> jax.Array:
    """Masks ``[B, T, K, ...]`` (each frame's slots) -> ``[B, K, T, ...]``: slot ``k`` of the clip is
    slot ``k`` of every frame, so the frames' pixels pool into one segmentation per video."""
    return jnp.swapaxes(masks, 1, 2)


def track_consistency(true_ids: jax.Array, pred_ids: jax.Array, num_slots: int) -> jax.Array:
    """Per-video track consistency ``[B]`` (float32) of a conditional video model.

    Object ``i`` (true id ``i >= 1``; 0 is the background) was conditioned on row ``i - 1`` of the
    first frame's boxes or centres, so slot ``i`` is its slot (slot 0 takes the background). In a
    frame where the object is *visible* (it has at least one pixel), it is *tracked* when slot ``i``
    is the slot holding most of its pixels (the argmax over slots of the count of its pixels whose
    predicted id is that slot; a tie goes to the lowest slot). An object's consistency is the share
    of its visible frames in which it is tracked; a video's is the mean over its objects visible in
    at least one frame (0 for a video without any). Objects with ids ``>= num_slots`` have no slot
    of their own and count as never tracked. A perfect tracker scores 1; two objects whose slots
    swap halfway through score 0.5.

    Args:
      true_ids: int ``[B, T, H, W]`` (the same id for an object in every frame).
      pred_ids: int ``[B, T, H, W]``, each pixel's slot (argmax of the masks).
      num_slots: K.
    """
    b, t = true_ids.shape[:2]
    num_true = num_slots
    true_ids = jnp.where(true_ids < num_true, true_ids, num_true)  # ids without a slot: one row
    table = contingency_table(
        true_ids.reshape(b * t, -1), pred_ids.reshape(b * t, -1), num_true + 1, num_slots
    ).reshape(b, t, num_true + 1, num_slots)[:, :, 1:]  # [B, T, objects, K]
    visible = table.sum(axis=-1) > 0  # [B, T, objects]
    own = jnp.arange(1, num_true + 1)  # object i's slot; the extra row has none (K is out of range)
    tracked = (jnp.argmax(table, axis=-1) == own) & visible
    frames = visible.sum(axis=1)  # [B, objects]
    per_object = tracked.sum(axis=1) / jnp.maximum(frames, 1)
    present = frames > 0
    count = present.sum(axis=1)
    score = jnp.where(present, per_object, 0.0).sum(axis=1) / jnp.maximum(count, 1)
    return score.astype(jnp.float32)
