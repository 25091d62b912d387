"""Shared base for the offline procedural TFDS builders.

A procedural builder renders every example from a seed in pure numpy, so nothing is downloaded.
Subclasses implement two things:

* ``_features()``: the ``tfds.features.FeaturesDict``; build it with :func:`canonical_features`;
* ``generate(rng, config) -> dict``: one example as numpy arrays (see below).

Canonical example, as stored and as read back by ``tfds.load``:

* ``image``: uint8 ``[H, W, 3]`` (tfds ``Image``, PNG). Grayscale or binary scenes are stored as RGB
  too, so every builder has the same layout.
* ``ids``: uint8 ``[H, W, 1]`` (tfds ``Image`` with one channel, PNG; ``generate`` may return
  ``[H, W]``). 0 is the background; object ``i`` of ``objects`` (0-based paint order) has id ``i + 1``.
  Only visible pixels carry an id, so an object that ends fully occluded has no pixel in ``ids``.
* ``objects``: a tfds ``Sequence`` of per-object properties, one entry per painted object in paint
  order, fully occluded objects included. :func:`canonical_features` adds ``visible_pixels`` (int32,
  the object's pixel count in ``ids``; 0 = fully occluded), filled in by the base class.

Splits ``train`` and ``test`` (a split of size 0 is left out); example ``i`` of a split is drawn from
``np.random.SeedSequence([config.seed, split_id, i])`` (train 0, test 1), so it does not depend on how
many examples are generated, and the splits use disjoint seed streams.

Sizes live in the config name, so differently sized datasets never share a TFDS directory::

    config = sized_config(ProceduralMultiDsprites, "simple", num_train=512, num_eval=64)
    builder = tfds.builder("procedural_multi_dsprites", config=config, data_dir=d)  # simple_512_64
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np
import tensorflow_datasets as tfds
import tqdm

SPLIT_IDS: dict[str, int] = {"train": 0, "test": 1}


@dataclasses.dataclass(eq=False)
class ProceduralConfig(tfds.core.BuilderConfig):
    """Config shared by procedural builders; subclass it (as a dataclass) to add generator options.

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


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of example ``index`` of ``split``; independent of the split size."""
    return np.random.default_rng(np.random.SeedSequence([seed, SPLIT_IDS[split], index]))


def canonical_features(
    height: int, width: int, object_features: Mapping[str, tfds.features.FeatureConnector]
) -> tfds.features.FeaturesDict:
    """``image`` [H, W, 3], ``ids`` [H, W, 1] and ``objects`` (given features + ``visible_pixels``)."""
    objects = dict(object_features)
    objects["visible_pixels"] = tfds.features.Tensor(shape=(), dtype=np.int32)
    return tfds.features.FeaturesDict({
        "image": tfds.features.Image(shape=(height, width, 3), dtype=np.uint8),
        "ids": tfds.features.Image(shape=(height, width, 1), dtype=np.uint8),
        "objects": tfds.features.Sequence(objects),
    })


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


class ProceduralBuilder(tfds.core.GeneratorBasedBuilder):
    """Abstract base: a TFDS builder whose examples are rendered by :meth:`generate`.

    Subclasses set ``BUILDER_CONFIGS`` (the first is the default) to instances of
    :class:`ProceduralConfig` or a subclass, and implement :meth:`_features` and :meth:`generate`.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict[str, str]] = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS: ClassVar[list[ProceduralConfig]] = []

    @abc.abstractmethod
    def _features(self) -> tfds.features.FeaturesDict:
        """The features of one example (use :func:`canonical_features`)."""

    @abc.abstractmethod
    def generate(self, rng: np.random.Generator, config: ProceduralConfig) -> dict[str, Any]:
        """One example from ``rng``: ``image`` uint8 [H, W, 3], ``ids`` uint8 [H, W] (or [H, W, 1]),
        ``objects`` dict of per-object arrays with leading dimension N (``visible_pixels`` is added)."""

    def _info(self) -> tfds.core.DatasetInfo:
        doc = (type(self).__doc__ or "").strip()
        return tfds.core.DatasetInfo(
            builder=self, description=doc.split("\n\n")[0], features=self._features()
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Iterator]:
        del dl_manager  # nothing to download
        sizes = {"train": self.builder_config.num_train, "test": self.builder_config.num_eval}
        return {split: self._generate_examples(split, n) for split, n in sizes.items() if n > 0}

    def _generate_examples(self, split: str, num_examples: int) -> Iterator[tuple[int, dict]]:
        desc = f"{self.name}/{self.builder_config.name} {split}"
        for index in tqdm.tqdm(range(num_examples), desc=desc, unit="img", leave=False):
            yield index, self.make_example(split, index)

    def make_example(self, split: str, index: int) -> dict[str, Any]:
        """Example ``index`` of ``split`` as stored: ``ids`` [H, W, 1], ``visible_pixels`` filled in."""
        config = self.builder_config
        example = dict(self.generate(example_rng(config.seed, split, index), config))
        ids = np.asarray(example["ids"], np.uint8)
        if ids.ndim == 2:
            ids = ids[..., None]
        example["ids"] = ids
        objects = dict(example["objects"])
        num_objects = len(next(iter(objects.values()))) if objects else 0
        objects.setdefault("visible_pixels", visible_pixels(ids[..., 0], num_objects))
        example["objects"] = objects
        return example


def sized_config(
    builder_cls: type[ProceduralBuilder] | str,
    name: str,
    num_train: int | None = None,
    num_eval: int | None = None,
) -> ProceduralConfig:
    """The config ``name`` of ``builder_cls`` (a class or registered name) with other split sizes.

    Returns the registered config itself when the sizes are the defaults; otherwise a copy named
    ``f"{name}_{num_train}_{num_eval}"``, so each size gets its own TFDS directory.
    """
    if isinstance(builder_cls, str):
        builder_cls = tfds.builder_cls(builder_cls)
    if name not in builder_cls.builder_configs:
        known = list(builder_cls.builder_configs)
        raise ValueError(f"{builder_cls.name} has no config {name!r}; known: {known}")
    base = builder_cls.builder_configs[name]
    num_train = base.num_train if num_train is None else int(num_train)
    num_eval = base.num_eval if num_eval is None else int(num_eval)
    if num_train < 0 or num_eval < 0:
        raise ValueError(f"Split sizes must be >= 0, got num_train={num_train}, num_eval={num_eval}.")
    if (num_train, num_eval) == (base.num_train, base.num_eval):
        return base
    return dataclasses.replace(
        base, name=f"{name}_{num_train}_{num_eval}", num_train=num_train, num_eval=num_eval,
        description=f"{base.description or name} ({num_train} train, {num_eval} test examples)",
    )
