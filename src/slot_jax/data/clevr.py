"""TFDS ``clevr:3.1.0`` as the paper preprocesses it (tf.data functions).

* ``image`` uint8 ``[320, 480, 3]`` -> /255, x2-1, crop ``[29:221, 64:256]``, bilinear resize (no
  antialiasing) to ``image_size``, clip to [-1, 1];
* CLEVR6 keeps the examples with at most 6 objects, counted by ``len(objects["3d_coords"])``;
* training reads ``train[512:]`` (the first 512 examples serve as train-eval) and evaluation reads
  ``validation``: the ``test`` split has no objects.

The crop/resize helpers come from :mod:`slot_jax.data.preprocess`, shared with CLEVR (with masks)
and the procedural CLEVR-like scenes (240x320), for which the same crop indices are common practice.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from slot_jax.data.preprocess import crop_resize_ids, crop_resize_scale

TFDS_NAME = "clevr:3.1.0"
TRAIN_SKIP = 512
CLEVR_CROP = (29, 221, 64, 256)  # (y0, y1, x0, x1)
CLEVR6_MAX_OBJECTS = 6
MAX_NUM_OBJECTS = 10  # the most objects in a CLEVR scene

__all__ = [
    "CLEVR6_MAX_OBJECTS",
    "CLEVR_CROP",
    "MAX_NUM_OBJECTS",
    "TFDS_NAME",
    "TRAIN_SKIP",
    "clevr_max_objects_filter",
    "clevr_split",
    "count_objects",
    "crop_resize_ids",
    "crop_resize_scale",
    "pad_objects",
    "preprocess_clevr",
]


def clevr_split(train: bool) -> str:
    """The TFDS split: ``"train[512:]"`` for training, ``"validation"`` for evaluation."""
    return f"train[{TRAIN_SKIP}:]" if train else "validation"


def count_objects(example: dict) -> tf.Tensor:
    """int32 scalar: ``len(objects["3d_coords"])``, or the real objects after :func:`pad_objects`."""
    objects = example["objects"]
    if "visibility" in objects:
        return tf.cast(tf.reduce_sum(objects["visibility"]), tf.int32)
    return tf.shape(objects["3d_coords"])[0]


def clevr_max_objects_filter(max_objects: int | None) -> Callable[[dict], tf.Tensor]:
    """A ``tf.data.Dataset.filter`` predicate: at most ``max_objects`` objects (None keeps all).

    ``clevr_max_objects_filter(CLEVR6_MAX_OBJECTS)`` selects CLEVR6. Works on raw TFDS examples and
    on :func:`preprocess_clevr` outputs.
    """
    if max_objects is None:
        return lambda example: tf.constant(True)
    return lambda example: count_objects(example) <= max_objects


def pad_objects(objects: dict, max_num_objects: int = MAX_NUM_OBJECTS) -> dict:
    """Per-object tensors ``[n, ...]`` -> ``[max_num_objects, ...]``, zero-padded (batchable).

    Adds ``visibility`` float32 ``[max_num_objects]``: 1 for the real objects, 0 for padding.
    """
    n = tf.shape(objects["3d_coords"])[0]

    def pad(x: tf.Tensor) -> tf.Tensor:
        x = x[:max_num_objects]
        paddings = [[0, max_num_objects - tf.shape(x)[0]]] + [[0, 0]] * (x.shape.rank - 1)
        return tf.ensure_shape(tf.pad(x, paddings), [max_num_objects, *x.shape[1:]])

    out = {name: pad(x) for name, x in objects.items()}
    out["visibility"] = pad(tf.ones([n], tf.float32))
    return out


def preprocess_clevr(
    example: dict,
    image_size: tuple[int, int] = (128, 128),
    crop: tuple[int, int, int, int] | None = CLEVR_CROP,
) -> dict:
    """A TFDS ``clevr`` example -> the paper's input.

    Args:
      example: ``image`` uint8 ``[320, 480, 3]`` and ``objects`` (per-object ``[n, ...]``).
      image_size: ``(h, w)`` after the crop.
      crop: ``(y0, y1, x0, x1)``, or None for the full image.

    Returns:
      ``image`` float32 ``[h, w, 3]`` in [-1, 1] and ``objects`` padded by :func:`pad_objects` to
      ``[MAX_NUM_OBJECTS, ...]`` with ``visibility``.
    """
    return {
        "image": crop_resize_scale(example["image"], crop, tuple(image_size)),
        "objects": pad_objects(example["objects"]),
    }
