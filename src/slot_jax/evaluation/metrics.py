"""Object-discovery metrics: ARI / FG-ARI, mean best overlap (mBO) and Hungarian-matched mIoU.

All metrics are pure, batched ``jnp`` functions of integer id maps ``[B, ...]`` (any trailing spatial
shape, flattened to ``[B, N]``) and return one value per image ``[B]``; the caller averages them,
weighted by its own padding mask where batches are padded.

Every metric is derived from one contingency table ``n[b, i, j]`` (pixels with true id ``i`` and
predicted id ``j``), built with a one-hot matmul so that shapes stay static under ``jax.jit``.

Static sizes. ``num_true`` / ``num_pred`` are the number of true / predicted ids (max id + 1) and set
the table's shape, so they must be Python ints when the function is traced (close over them with
``functools.partial`` or mark them ``static_argnames``). When left ``None`` they are read from the
data (``max id + 1``), which only works on concrete arrays, outside ``jax.jit``; under ``jit`` a
missing size raises a ``ValueError``. Ids outside ``[0, num)`` fall out of the one-hot and are
silently ignored, like padded pixels. :func:`segmentation_metrics` takes ``num_pred`` from the masks'
slot axis.

Padding. ``padding_mask`` (bool or 0/1 float) is ``[B]`` per example or ``[B, ...]`` per pixel
(same shape as the ids); ``False`` entries are excluded. A fully padded example has no pixels and
returns the degenerate values (ARI 1.0, mBO and mIoU 0.0): finite, to be masked out by the caller.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

Array = jax.Array


def _static_size(ids: Array, num: int | None, name: str) -> int:
    """``num`` if given, else ``max(ids) + 1`` from a concrete array (impossible under ``jit``)."""
    if num is not None:
        return int(num)
    if isinstance(ids, jax.core.Tracer):
        raise ValueError(f"{name} must be a static int when the metric is traced (e.g. under jax.jit).")
    return int(np.max(np.asarray(ids))) + 1 if np.size(ids) else 1


def _pixel_weights(shape: tuple[int, ...], padding_mask: Array | None) -> Array:
    """Per-pixel weights ``[B, N]`` (float32) from an optional ``[B]`` or ``[B, ...]`` padding mask."""
    batch, n = shape[0], int(np.prod(shape[1:]))
    if padding_mask is None:
        return jnp.ones((batch, n), jnp.float32)
    mask = jnp.asarray(padding_mask).astype(jnp.float32)
    if mask.ndim == 1:
        return jnp.broadcast_to(mask[:, None], (batch, n))
    return mask.reshape(batch, n)


def ids_from_masks(masks: Array) -> Array:
    """Binarise soft masks ``[B, K, ...]`` (e.g. ``[B, K, H, W, 1]``) to ids ``[B, ...]`` by argmax.

    A trailing singleton channel axis is dropped: ``[B, K, H, W, 1] -> [B, H, W]`` (int32).
    """
    masks = jnp.asarray(masks)
    if masks.ndim > 3 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    return jnp.argmax(masks, axis=1).astype(jnp.int32)


def contingency_table(
    true_ids: Array,
    pred_ids: Array,
    num_true: int | None = None,
    num_pred: int | None = None,
    padding_mask: Array | None = None,
) -> Array:
    """Counts ``n[b, i, j]`` of valid pixels with true id ``i`` and predicted id ``j``.

    Args:
      true_ids, pred_ids: integer id maps ``[B, ...]`` of the same shape.
      num_true, num_pred: static table sizes (see the module docstring).
      padding_mask: optional ``[B]`` or ``[B, ...]`` mask of valid examples / pixels.

    Returns:
      ``[B, num_true, num_pred]`` float32 counts (exact up to 2**24 pixels per image).
    """
    true_ids, pred_ids = jnp.asarray(true_ids), jnp.asarray(pred_ids)
    if true_ids.shape != pred_ids.shape:
        raise ValueError(f"id maps differ in shape: {true_ids.shape} vs {pred_ids.shape}")
    num_true = _static_size(true_ids, num_true, "num_true")
    num_pred = _static_size(pred_ids, num_pred, "num_pred")
    batch = true_ids.shape[0]
    weights = _pixel_weights(true_ids.shape, padding_mask)
    true_oh = jax.nn.one_hot(true_ids.reshape(batch, -1), num_true, dtype=jnp.float32)
    pred_oh = jax.nn.one_hot(pred_ids.reshape(batch, -1), num_pred, dtype=jnp.float32)
    return jnp.einsum(
        "bnt,bnp->btp", true_oh * weights[..., None], pred_oh, precision=jax.lax.Precision.HIGHEST
    )


def ari_from_table(table: Array) -> Array:
    """Adjusted Rand index ``[B]`` of contingency tables ``[B, T, P]``.

    Equal to ``(sum C(n_ij,2) - E) / (0.5 (sum C(a_i,2) + sum C(b_j,2)) - E)`` with
    ``E = sum C(a_i,2) sum C(b_j,2) / C(n,2)``, evaluated in the pair-confusion form
    ``2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn))`` over ordered pixel pairs
    (``tp``: same true and predicted id, ``fn``: same true id only, ``fp``: same predicted id only,
    ``tn``: neither). Each pair count is a sum of non-negative products of integer counts, so float32
    keeps ~1e-7 relative precision and structural zeros stay exact: a single true cluster gives
    exactly 0 unless the prediction is one segment too. The denominator vanishes only when
    ``fn = fp = 0`` (identical partitions, including ``n <= 1``); the result is 1.0 there, as in
    ``sklearn.metrics.adjusted_rand_score`` (the DeepMind TF reference gives NaN).
    """
    a = table.sum(axis=2, keepdims=True)  # [B, T, 1] true cluster sizes
    b = table.sum(axis=1, keepdims=True)  # [B, 1, P] predicted cluster sizes
    n = a.sum(axis=1, keepdims=True)  # [B, 1, 1]
    scale = 1.0 / jnp.maximum(n[:, 0, 0], 1.0) ** 2  # keeps the products far from float32 overflow
    tp = (table * (table - 1.0)).sum(axis=(1, 2)) * scale
    fn = (table * (a - table)).sum(axis=(1, 2)) * scale
    fp = (table * (b - table)).sum(axis=(1, 2)) * scale
    tn = (table * (n - a - b + table)).sum(axis=(1, 2)) * scale
    denominator = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)
    identical = (fn == 0.0) & (fp == 0.0)
    ari = 2.0 * (tp * tn - fn * fp) / jnp.where(identical, 1.0, denominator)
    return jnp.where(identical, 1.0, ari)


def iou_from_table(table: Array) -> Array:
    """IoU ``[B, T, P]`` between every true and predicted segment; 0 where both are empty."""
    a = table.sum(axis=2, keepdims=True)
    b = table.sum(axis=1, keepdims=True)
    union = a + b - table
    return jnp.where(union > 0, table / jnp.maximum(union, 1.0), 0.0)


def _object_mean(per_object: Array, present: Array) -> Array:
    """Mean of ``per_object [B, T']`` over present objects ``[B, T']``; 0 for images without any."""
    count = present.sum(axis=1)
    return jnp.where(present, per_object, 0.0).sum(axis=1) / jnp.maximum(count, 1.0)


def _foreground(table: Array) -> tuple[Array, Array]:
    """IoU of foreground objects ``[B, T-1, P]`` (true id 0 is background) and presence ``[B, T-1]``."""
    iou = iou_from_table(table)[:, 1:, :]
    present = table[:, 1:, :].sum(axis=2) > 0
    return iou, present


def mbo_from_table(table: Array) -> Array:
    """Mean best overlap ``[B]``: per foreground object the best IoU over predicted segments."""
    iou, present = _foreground(table)
    return _object_mean(iou.max(axis=2), present)


def miou_from_table(table: Array) -> Array:
    """Hungarian-matched mIoU ``[B]``: one-to-one object/segment assignment maximising total IoU.

    Objects left unmatched (more objects than predicted segments) score 0. Absent object rows have
    zero IoU everywhere, so matching them never displaces a present object.
    """
    iou, present = _foreground(table)
    if iou.shape[1] == 0 or iou.shape[2] == 0:
        return jnp.zeros(iou.shape[:1], iou.dtype)
    rows, cols = jax.vmap(optax.assignment.hungarian_algorithm)(-iou)  # [B, min(T-1, P)] each
    batch = jnp.arange(iou.shape[0])[:, None]
    per_object = jnp.zeros(present.shape, iou.dtype).at[batch, rows].set(iou[batch, rows, cols])
    return _object_mean(per_object, present)


def num_objects_from_table(table: Array) -> Array:
    """Number of foreground objects with at least one valid pixel ``[B]`` (float32)."""
    return (table[:, 1:, :].sum(axis=2) > 0).sum(axis=1).astype(jnp.float32)


def adjusted_rand_index(
    true_ids: Array,
    pred_ids: Array,
    ignore_background: bool = False,
    padding_mask: Array | None = None,
    num_true: int | None = None,
    num_pred: int | None = None,
) -> Array:
    """ARI ``[B]`` between id maps ``[B, ...]``; FG-ARI with ``ignore_background=True``.

    FG-ARI drops the pixels whose true id is 0. Degenerate images (see :func:`ari_from_table`),
    including images with no valid pixel or a single foreground object predicted as one segment,
    give 1.0, never NaN.
    """
    table = contingency_table(true_ids, pred_ids, num_true, num_pred, padding_mask)
    return ari_from_table(table[:, 1:, :] if ignore_background else table)


def mean_best_overlap(
    true_ids: Array,
    pred_ids: Array,
    padding_mask: Array | None = None,
    num_true: int | None = None,
    num_pred: int | None = None,
) -> Array:
    """mBO ``[B]``: best IoU of each foreground object (true id > 0) over predicted segments, averaged
    over the objects present. Images without foreground objects give 0.0; weight by
    :func:`segmentation_metrics`' ``num_objects > 0`` to exclude them.
    """
    return mbo_from_table(contingency_table(true_ids, pred_ids, num_true, num_pred, padding_mask))


def hungarian_miou(
    true_ids: Array,
    pred_ids: Array,
    padding_mask: Array | None = None,
    num_true: int | None = None,
    num_pred: int | None = None,
) -> Array:
    """Hungarian-matched mIoU ``[B]`` over foreground objects (true id > 0); unmatched objects score 0.
    Images without foreground objects give 0.0 (see :func:`mean_best_overlap`).
    """
    return miou_from_table(contingency_table(true_ids, pred_ids, num_true, num_pred, padding_mask))


def segmentation_metrics(
    true_ids: Array,
    masks: Array,
    padding_mask: Array | None = None,
    num_true: int | None = None,
) -> dict[str, Array]:
    """All object-discovery metrics of a model's masks, from one contingency table.

    Args:
      true_ids: integer ground-truth ids ``[B, H, W]`` (0 = background).
      masks: the model's soft masks ``[B, K, H, W, 1]``; predictions are the argmax over slots, so
        ``num_pred = K`` is static.
      padding_mask: optional ``[B]`` or ``[B, H, W]`` mask of valid examples / pixels.
      num_true: static number of true ids (see the module docstring).

    Returns:
      ``{"ari", "fg_ari", "mbo", "miou", "num_objects"}``, each ``[B]`` float32.
    """
    pred_ids = ids_from_masks(masks)
    table = contingency_table(true_ids, pred_ids, num_true, masks.shape[1], padding_mask)
    return metrics_from_table(table)


def metrics_from_table(table: Array) -> dict[str, Array]:
    """:func:`segmentation_metrics` of a contingency table ``[B, T, P]`` (true id 0: background)."""
    return {
        "ari": ari_from_table(table),
        "fg_ari": ari_from_table(table[:, 1:, :]),
        "mbo": mbo_from_table(table),
        "miou": miou_from_table(table),
        "num_objects": num_objects_from_table(table),
    }
