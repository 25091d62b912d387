"""MOVi-A to MOVi-E (Kubric's multi-object videos), read from a prepared TFDS copy.

The datasets are published prepared, in TFDS format, at ``gs://kubric-public/tfds``
(``movi_a/128x128/1.0.0``, ``movi_a/256x256/1.0.0``, ... ``movi_e``); no builder code is needed to
read them. Copy the ones you need into ``config.data.data_dir``, e.g.
``gsutil -m cp -r gs://kubric-public/tfds/movi_a/128x128 <data_dir>/movi_a/``, and name them
``config.data.name = "movi_a/128x128"``. There are ``train`` and ``validation`` splits; training
reads ``train`` and evaluation ``validation``.

What a MOVi example holds (Kubric's ``challenges/movi``), of which this reader uses

* ``video`` uint8 ``[T, H, W, 3]`` (T = 24);
* ``segmentations`` uint8 ``[T, H, W, 1]``: 0 = background, object ``i`` of ``instances`` is
  ``i + 1`` in every frame (the ids are used as stored);
* ``instances``: per object, ``bboxes`` ``[n_i, 4]`` (``[y0, x0, y1, x1]`` in [0, 1]) for the
  frames ``bbox_frames`` ``[n_i]`` in which the object is visible.

:func:`to_canonical` makes the canonical video example of :mod:`slot_jax.data.registry`, as SAVi's
``sparse_to_dense_annotation`` does: ``boxes`` ``[T, max_instances, 4]`` with zeros where an object
is not visible and for missing objects (objects beyond ``max_instances`` are dropped), and ``centers``
``[T, max_instances, 2]``, the boxes' centres (MOVi's ``image_positions`` project each object's 3D
centre, visible or not, so the centres here are those of the boxes, not of the visible pixels as in
the procedural videos), zeros where the box is.
"""

from __future__ import annotations

import tensorflow as tf

BUILDERS = ("movi_a", "movi_b", "movi_c", "movi_d", "movi_e")
NUM_FRAMES = 24


def dense_boxes(
    bboxes: tf.RaggedTensor, bbox_frames: tf.RaggedTensor, num_frames: tf.Tensor, max_instances: int
) -> tf.Tensor:
    """Sparse tracks -> float32 ``[num_frames, max_instances, 4]``.

    Args:
      bboxes: ``[N, (n_i), 4]``, object ``i``'s boxes.
      bbox_frames: ``[N, (n_i)]``, the frame of each of those boxes.
      num_frames: the video's frames.
      max_instances: the objects kept (the first ones); the rest are dropped.
    """
    instance = tf.cast(bboxes.value_rowids(), tf.int32)
    frame = tf.cast(bbox_frames.flat_values, tf.int32)
    keep = (instance < max_instances) & (frame < num_frames)
    index = tf.stack([tf.boolean_mask(frame, keep), tf.boolean_mask(instance, keep)], axis=-1)
    values = tf.boolean_mask(tf.cast(bboxes.flat_values, tf.float32), keep)
    return tf.scatter_nd(index, values, tf.stack([num_frames, max_instances, 4]))


def box_centers(boxes: tf.Tensor) -> tf.Tensor:
    """``[..., 4]`` boxes ``[y0, x0, y1, x1]`` -> ``[..., 2]`` centres ``[y, x]``."""
    return (boxes[..., :2] + boxes[..., 2:]) / 2.0


def _ragged(x) -> tf.RaggedTensor:
    """A decoded nested sequence as a ragged tensor (TFDS gives one already; a uniform tensor
    from elsewhere is converted)."""
    return x if isinstance(x, tf.RaggedTensor) else tf.RaggedTensor.from_tensor(x)


def to_canonical(example: dict, max_instances: int) -> dict:
    """A decoded MOVi example -> the canonical video example (see the module docstring)."""
    video = example["video"]
    num_frames = tf.shape(video)[0]
    instances = example["instances"]
    boxes = dense_boxes(
        _ragged(instances["bboxes"]), _ragged(instances["bbox_frames"]), num_frames, max_instances
    )
    return {
        "video": video,
        "ids": tf.cast(example["segmentations"][..., 0], tf.int32),
        "boxes": boxes,
        "centers": box_centers(boxes),
    }

