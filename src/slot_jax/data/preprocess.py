"""Shared image and id-map preprocessing (tf functions): crop, resize, scale to [-1, 1]; the
random training window of a video.

Each works on one image or on the frames of a video alike (leading dimensions are kept; a video's
frames are cropped and resized one by one)."""

from __future__ import annotations

import tensorflow as tf

from slot_jax.data.batching import VIDEO_KEYS


def _crop(x: tf.Tensor, crop: tuple[int, int, int, int] | None) -> tf.Tensor:
    """``[..., H, W, C]`` cropped to ``[..., y0:y1, x0:x1, :]``."""
    if crop is None:
        return x
    y0, y1, x0, x1 = crop
    return x[..., y0:y1, x0:x1, :]


def crop_resize_scale(
    image: tf.Tensor, crop: tuple[int, int, int, int] | None, size: tuple[int, int]
) -> tf.Tensor:
    """uint8 ``[H, W, 3]`` (or frames ``[T, H, W, 3]``) -> float32 ``[h, w, 3]`` (``[T, h, w, 3]``)
    in [-1, 1].

    The paper's order: scale to [-1, 1], crop ``[y0:y1, x0:x1]``, bilinear resize (no antialiasing,
    as ``tf.image.resize``'s default), clip. The resize is skipped when the size already matches.
    """
    x = tf.cast(image, tf.float32) / 255.0 * 2.0 - 1.0
    x = _crop(x, crop)
    if tuple(x.shape[-3:-1]) != tuple(size):
        x = tf.image.resize(x, size, method="bilinear", antialias=False)
    return tf.clip_by_value(x, -1.0, 1.0)


def crop_resize_ids(
    ids: tf.Tensor, crop: tuple[int, int, int, int] | None, size: tuple[int, int]
) -> tf.Tensor:
    """int ``[H, W]`` instance ids (or ``[T, H, W]``) -> int32 ``[h, w]`` (``[T, h, w]``): the
    same crop, nearest-neighbour resize."""
    x = _crop(tf.cast(ids, tf.int32)[..., None], crop)
    if tuple(x.shape[-3:-1]) != tuple(size):
        x = tf.image.resize(x, size, method="nearest")
    return x[..., 0]


def random_window(example: dict, length: int, seed: tf.Tensor) -> dict:
    """``length`` consecutive frames of a video example, from a start drawn uniformly by the
    stateless ``seed`` (``[2]`` int); every key with a time axis gets the same window."""
    frames = tf.shape(example["video"])[0]
    start = tf.random.stateless_uniform(
        [], seed=seed, minval=0, maxval=frames - length + 1, dtype=tf.int32
    )
    out = dict(example)
    for key in VIDEO_KEYS:
        if key in example:
            x = example[key][start:start + length]
            x.set_shape([length, *example[key].shape[1:]])
            out[key] = x
    return out
