"""The 19-d CLEVR object-property vector of set prediction.

Shared by the model's predictions (:mod:`slot_jax.models.set_prediction`), the targets
(:mod:`slot_jax.data.targets`), the loss (:mod:`slot_jax.lib.losses`) and AP
(:mod:`slot_jax.evaluation.set_metrics`), in this order:

====================  =====  =========================================================
property              dims   encoding
====================  =====  =========================================================
``3d_coords``         0-2    ``(coords + 3) / 6``: CLEVR's [-3, 3] scene units to [0, 1]
``size``              3-4    one-hot (small, large)
``material``          5-6    one-hot (rubber, metal)
``shape``             7-9    one-hot (cube, sphere, cylinder)
``color``             10-17  one-hot (gray, blue, brown, yellow, red, green, purple, cyan)
objectness            18     1 for a real object, 0 for padding
====================  =====  =========================================================
"""

from __future__ import annotations

# (name, width) of the property groups, in target order; objectness follows them.
PROPERTIES: tuple[tuple[str, int], ...] = (
    ("3d_coords", 3), ("size", 2), ("material", 2), ("shape", 3), ("color", 8),
)
# The discrete properties AP compares (by argmax), in target order.
DISCRETE_PROPERTIES: tuple[str, ...] = ("size", "material", "shape", "color")
# Coordinates are stored as (coords + COORD_OFFSET) / COORD_SCALE.
COORD_OFFSET = 3.0
COORD_SCALE = 6.0


def _slices() -> dict[str, slice]:
    out, start = {}, 0
    for name, width in PROPERTIES:
        out[name] = slice(start, start + width)
        start += width
    return out


PROPERTY_SLICES: dict[str, slice] = _slices()
OBJECTNESS_INDEX: int = sum(width for _, width in PROPERTIES)  # 18
NUM_PROPERTIES: int = OBJECTNESS_INDEX + 1  # 19
