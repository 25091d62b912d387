"""What every procedural generator shares, without TensorFlow: options, seeding, the canonical example.

A generator module (:mod:`.sprites`, :mod:`.tetrominoes`, :mod:`.clevr_like`) defines

* an options dataclass deriving from :class:`SceneOptions` (keyword-only fields);
* ``PRESETS``: ``{name: (description, options)}``, the first one the default;
* ``generate(rng, options) -> dict``: one scene as numpy arrays, ``image`` uint8 ``[H, W, 3]``,
  ``ids`` uint8 ``[H, W]`` (or ``[H, W, 1]``) and ``objects``, a dict of per-object arrays with
  leading dimension N.

:func:`canonical_example` turns a scene into the canonical example, which the TFDS builders
(:mod:`.base`, :mod:`.builders`) store and the in-memory source (:mod:`slot_jax.data.memory`) keeps:

* ``image``: uint8 ``[H, W, 3]``. Grayscale or binary scenes are RGB too, so every dataset has the
  same layout.
* ``ids``: uint8 ``[H, W, 1]``. 0 is the background; object ``i`` of ``objects`` (0-based paint
  order) has id ``i + 1``. Only visible pixels carry an id, so an object that ends fully occluded
  has no pixel in ``ids``.
* ``objects``: per-object properties in paint order, fully occluded objects included, plus
  ``visible_pixels`` (int32, the object's pixel count in ``ids``; 0 = fully occluded).

Example ``i`` of split ``train`` or ``test`` is drawn from ``np.random.SeedSequence([options.seed,
split_id, i])`` (train 0, test 1), so it does not depend on how many examples are generated, and
the splits use disjoint seed streams.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

SPLIT_IDS: dict[str, int] = {"train": 0, "test": 1}


@dataclasses.dataclass(eq=False, kw_only=True)
class SceneOptions:
    """Options shared by every generator; subclass it (as a keyword-only dataclass) to add more.

    Attributes:
      num_train, num_eval: examples in the ``train`` and ``test`` splits.
      seed: root seed of the example seed streams.
      height, width: image size in pixels.
      min_objects, max_objects: number of objects per scene, uniform in the closed range.
    """

    num_train: int = 10_000
    num_eval: int = 500
    seed: int = 0
    height: int = 64
    width: int = 64
    min_objects: int = 2
    max_objects: int = 5


Generate = Callable[[np.random.Generator, Any], dict]


def option_values(options: SceneOptions) -> dict[str, Any]:
    """The options' fields as keyword arguments (for a TFDS config built from a preset)."""
    return {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of example ``index`` of ``split``; independent of the split size."""
    return np.random.default_rng(np.random.SeedSequence([seed, SPLIT_IDS[split], index]))


def visible_pixels(ids: np.ndarray, num_objects: int) -> np.ndarray:
    """int ``[H, W]`` ids -> int32 ``[num_objects]`` pixel count of ids ``1..num_objects``."""
    counts = np.bincount(ids.ravel().astype(np.int64), minlength=num_objects + 1)
    return counts[1 : num_objects + 1].astype(np.int32)


def paint_order_ids(masks: np.ndarray) -> np.ndarray:
    """bool ``[N, H, W]`` object masks in paint order -> uint8 ``[H, W]`` ids of the topmost object.

    Later objects occlude earlier ones; pixels outside every mask are 0.
    """
    n = masks.shape[0]
    if n == 0:
        return np.zeros(masks.shape[1:], np.uint8)
    top = n - np.argmax(masks[::-1], axis=0)  # 1-based index of the last mask covering the pixel
    return np.where(masks.any(axis=0), top, 0).astype(np.uint8)


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """float colours in [0, 1] -> uint8 (rounded)."""
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def canonical_example(
    generate: Generate, options: SceneOptions, split: str, index: int
) -> dict[str, Any]:
    """Example ``index`` of ``split`` as stored: ``ids`` ``[H, W, 1]``, ``visible_pixels`` filled in."""
    example = dict(generate(example_rng(options.seed, split, index), options))
    ids = np.asarray(example["ids"], np.uint8)
    if ids.ndim == 2:
        ids = ids[..., None]
    example["ids"] = ids
    objects = dict(example["objects"])
    num_objects = len(next(iter(objects.values()))) if objects else 0
    objects.setdefault("visible_pixels", visible_pixels(ids[..., 0], num_objects))
    example["objects"] = objects
    return example
