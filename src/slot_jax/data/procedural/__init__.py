"""Offline procedural TFDS builders; importing this package registers them.

* ``procedural_multi_dsprites`` (:mod:`.sprites`): configs ``colored_on_grayscale`` (default),
  ``colored_on_colored``, ``binarized``, ``simple``, ``clustered``.
* ``procedural_tetrominoes`` (:mod:`.tetrominoes`).
* ``procedural_clevr`` (:mod:`.clevr_like`), when present.

The shared layout, seeding and :func:`~slot_jax.data.procedural.base.sized_config` are in :mod:`.base`.
"""

from slot_jax.data.procedural import base, sprites, tetrominoes

try:
    from slot_jax.data.procedural import clevr_like  # noqa: F401  (registers procedural_clevr)
except ImportError:
    pass

__all__ = ["base", "sprites", "tetrominoes"]
