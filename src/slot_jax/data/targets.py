"""Set-prediction targets from CLEVR ``objects`` (tf.data functions).

Works on the ``objects`` of TFDS ``clevr`` and of ``procedural_clevr`` (same feature names and
ClassLabel orders), either raw (per-object ``[n, ...]``) or zero-padded at the end (``[max, ...]``
with a ``visibility`` mask).

Each object becomes the 19-d vector of :mod:`slot_jax.properties`, in the official order
``[3d_coords, size, material, shape, color, objectness]``:

* dims 0-2: ``(3d_coords + 3) / 6``;
* dims 3-4: one-hot size (small, large);
* dims 5-6: one-hot material (rubber, metal);
* dims 7-9: one-hot shape (cube, sphere, cylinder);
* dims 10-17: one-hot colour (gray, blue, brown, yellow, red, green, purple, cyan);
* dim 18: 1 (a real object).

Rows past the real objects, up to ``max_objects``, are all zeros.
"""

from __future__ import annotations

import tensorflow as tf

from slot_jax.properties import COORD_OFFSET, COORD_SCALE, NUM_PROPERTIES, PROPERTIES


def set_prediction_targets(objects: dict, max_objects: int = 10) -> tf.Tensor:
    """The padded target set of one image.

    Args:
      objects: ``3d_coords`` float ``[n, 3]`` and integer labels ``size``, ``material``, ``shape``,
        ``color`` ``[n]``; optionally ``visibility`` ``[n]`` (1 real, 0 padding; the padding rows
        after the real objects). Other features are ignored.
      max_objects: rows of the result; more than this many objects is an error.

    Returns:
      float32 ``[max_objects, 19]`` (layout in the module docstring).
    """
    columns = [(tf.cast(objects["3d_coords"], tf.float32) + COORD_OFFSET) / COORD_SCALE]
    for name, depth in PROPERTIES[1:]:
        columns.append(tf.one_hot(tf.cast(objects[name], tf.int32), depth, dtype=tf.float32))
    if "visibility" in objects:
        real = tf.cast(tf.not_equal(objects["visibility"], 0), tf.float32)
    else:
        real = tf.ones_like(columns[0][:, 0])
    count = tf.cast(tf.reduce_sum(real), tf.int32)
    check = tf.debugging.assert_less_equal(
        count, max_objects, message=f"set_prediction_targets: more than {max_objects} objects"
    )
    with tf.control_dependencies([check]):
        rows = tf.concat(columns + [real[:, None]], axis=1) * real[:, None]
    # Real objects come first (padding is at the end), so the first rows hold them all.
    rows = rows[:max_objects]
    rows = tf.pad(rows, [[0, max_objects - tf.shape(rows)[0]], [0, 0]])
    return tf.ensure_shape(rows, [max_objects, NUM_PROPERTIES])
