"""The TFDS side of the procedural datasets: the builder base class, features and sized configs.

A procedural builder stores the canonical examples of a TensorFlow-free generator module (see
:mod:`.scene`): nothing is downloaded. A builder class sets ``GENERATOR`` (the generator module)
and ``BUILDER_CONFIGS`` (:func:`builder_configs` of the module's presets, the first one the
default), and implements ``_features()`` with :func:`canonical_features`.

Stored features, as read back by ``tfds.load``: ``image`` uint8 ``[H, W, 3]`` (tfds ``Image``,
PNG), ``ids`` uint8 ``[H, W, 1]`` (tfds ``Image`` with one channel, PNG) and ``objects``, a tfds
``Sequence`` of the per-object properties plus ``visible_pixels``; a video dataset stores
:func:`video_features` instead. Splits ``train`` and ``test`` (a
split of size 0 is left out).

Sizes live in the config name, so differently sized datasets never share a TFDS directory::

    config = sized_config(ProceduralMultiDsprites, "simple", num_train=512, num_eval=64)
    builder = tfds.builder("procedural_multi_dsprites", config=config, data_dir=d)  # simple_512_64
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import sys
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import tensorflow_datasets as tfds
import tqdm
from absl import logging
from tensorflow_datasets.core.utils import tqdm_utils

from slot_jax.data.procedural.scene import SceneOptions, canonical_example, option_values
from slot_jax.lib.progress import is_terminal


def builder_configs(
    config_cls: type[tfds.core.BuilderConfig], presets: Mapping[str, tuple[str, SceneOptions]]
) -> list[tfds.core.BuilderConfig]:
    """One ``config_cls`` (a TFDS config deriving from the presets' options class) per preset."""
    return [config_cls(name=name, description=description, **option_values(options))
            for name, (description, options) in presets.items()]


def canonical_features(
    height: int, width: int, object_features: Mapping[str, tfds.features.FeatureConnector]
) -> tfds.features.FeaturesDict:
    """``image`` [H, W, 3], ``ids`` [H, W, 1] and ``objects`` (given features + ``visible_pixels``)."""
    return tfds.features.FeaturesDict({
        "image": tfds.features.Image(shape=(height, width, 3), dtype=np.uint8),
        "ids": tfds.features.Image(shape=(height, width, 1), dtype=np.uint8),
        "objects": _objects(object_features),
    })


def video_features(
    num_frames: int, height: int, width: int, max_objects: int,
    object_features: Mapping[str, tfds.features.FeatureConnector],
) -> tfds.features.FeaturesDict:
    """``video`` [T, H, W, 3] and ``ids`` [T, H, W, 1] (``Sequence``s of PNG frames, MOVi's layout
    of its segmentations; tfds ``Video`` stores the same), ``boxes`` [T, max_objects, 4],
    ``centers`` [T, max_objects, 2] and ``objects`` as in :func:`canonical_features`."""

    def frames(channels: int) -> tfds.features.Sequence:
        image = tfds.features.Image(shape=(height, width, channels), dtype=np.uint8)
        return tfds.features.Sequence(image, length=num_frames)

    return tfds.features.FeaturesDict({
        "video": frames(3),
        "ids": frames(1),
        "boxes": tfds.features.Tensor(shape=(num_frames, max_objects, 4), dtype=np.float32),
        "centers": tfds.features.Tensor(shape=(num_frames, max_objects, 2), dtype=np.float32),
        "objects": _objects(object_features),
    })


def _objects(object_features: Mapping[str, tfds.features.FeatureConnector]) -> tfds.features.Sequence:
    """The per-object features, plus ``visible_pixels``, as a tfds ``Sequence``."""
    return tfds.features.Sequence({
        **object_features, "visible_pixels": tfds.features.Tensor(shape=(), dtype=np.int32)
    })


class ProceduralBuilder(tfds.core.GeneratorBasedBuilder):
    """Abstract base: a TFDS builder whose examples are the canonical examples of ``GENERATOR``."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict[str, str]] = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS: ClassVar[list[tfds.core.BuilderConfig]] = []
    GENERATOR: ClassVar[ModuleType]

    @abc.abstractmethod
    def _features(self) -> tfds.features.FeaturesDict:
        """The features of one example (use :func:`canonical_features`)."""

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
        bar = tqdm.tqdm(range(num_examples), desc=desc, unit="img", leave=False,
                        disable=not is_terminal(sys.stderr))
        for index in bar:
            yield index, self.make_example(split, index)

    def download_and_prepare(self, *args, **kwargs) -> None:
        """TFDS's ``download_and_prepare``; without a terminal, without its redrawn progress bars
        (the log lines of :meth:`_log_download_bytes` and :meth:`_log_download_done` remain)."""
        with _progress_bars(is_terminal(sys.stderr)):
            super().download_and_prepare(*args, **kwargs)

    def _log_download_bytes(self) -> None:
        # TFDS's line here reads "Downloading and preparing dataset Unknown size (download: ...)"
        cfg = self.builder_config
        kind = "videos" if getattr(cfg, "num_frames", None) else "images"
        logging.info("Generating %s/%s: %d training and %d held-out %s into %s (once; later "
                     "runs reuse them).", self.name, cfg.name, cfg.num_train, cfg.num_eval, kind,
                     self.data_dir)

    def _log_download_done(self) -> None:
        logging.info("Generated %s/%s.", self.name, self.builder_config.name)

    def make_example(self, split: str, index: int) -> dict[str, Any]:
        """Example ``index`` of ``split`` as stored (:func:`.scene.canonical_example`)."""
        return canonical_example(self.GENERATOR.generate, self.builder_config, split, index)


def sized_config(
    builder_cls: type[ProceduralBuilder] | str,
    name: str,
    num_train: int | None = None,
    num_eval: int | None = None,
) -> tfds.core.BuilderConfig:
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


@contextlib.contextmanager
def _progress_bars(enabled: bool) -> Iterator[None]:
    """TFDS's progress bars on or off inside the block, as they were after it."""
    before = getattr(tqdm_utils, "_active", True)
    tfds.display_progress_bar(enabled)
    try:
        yield
    finally:
        tfds.display_progress_bar(before)
