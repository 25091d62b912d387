"""Offline procedural datasets: numpy generators, and the TFDS builders that store them.

Generators (no TensorFlow; :mod:`.scene` says what each module defines):

* ``procedural_multi_dsprites`` (:mod:`.sprites`): presets ``colored_on_grayscale`` (default),
  ``colored_on_colored``, ``binarized``, ``simple``, ``quickstart``, ``clustered``.
* ``procedural_tetrominoes`` (:mod:`.tetrominoes`).
* ``procedural_clevr`` (:mod:`.clevr_like`).
* ``procedural_moving_sprites`` (:mod:`.moving_sprites`), videos: presets ``standard`` (default),
  ``tiny``.

Importing this package imports the generators only. The TFDS builders (:mod:`.builders`, on
:mod:`.base`) register when that module is imported, as :mod:`slot_jax.data` does where TensorFlow
is installed; the in-memory source (:mod:`slot_jax.data.memory`) uses the generators directly.
"""

from types import ModuleType

from slot_jax.data.procedural import clevr_like, moving_sprites, sprites, tetrominoes

GENERATORS: dict[str, ModuleType] = {
    "procedural_multi_dsprites": sprites,
    "procedural_tetrominoes": tetrominoes,
    "procedural_clevr": clevr_like,
    "procedural_moving_sprites": moving_sprites,
}

__all__ = ["GENERATORS", "clevr_like", "moving_sprites", "sprites", "tetrominoes"]
