"""Offline procedural TFDS builders; importing this package registers them.

* ``procedural_multi_dsprites`` (:mod:`.sprites`): configs ``colored_on_grayscale`` (default),
  ``colored_on_colored``, ``binarized``, ``simple``, ``clustered``.
* ``procedural_tetrominoes`` (:mod:`.tetrominoes`).
* ``procedural_clevr`` (:mod:`.clevr_like`).

The shared layout, seeding and :func:`~slot_jax.data.procedural.base.sized_config` are in :mod:`.base`.
"""

from slot_jax.data.procedural import base, clevr_like, sprites, tetrominoes

__all__ = ["base", "clevr_like", "sprites", "tetrominoes"]
