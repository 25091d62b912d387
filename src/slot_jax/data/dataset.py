"""``config.data`` resolved once: the :class:`Dataset` that everything reading the data receives.

:func:`resolve` looks ``config.data.name`` up in the registry (:mod:`slot_jax.data.registry`) and
resolves the input source, once; the iterators, the tf.data pipeline, the in-memory source, the TFDS
builders, the evaluation and the baselines then read what they need from the object, not the name.
:func:`slot_jax.train.build_setup` (through :func:`slot_jax.data.check.check_data`) resolves it for
a run. Importing this module needs no TensorFlow.
"""

from __future__ import annotations

import dataclasses

import ml_collections

from slot_jax.data import registry
from slot_jax.data.registry import DatasetSpec
from slot_jax.lib.quiet import installed

SOURCES = ("auto", "tfds", "memory")


def resolve_source(cfg: ml_collections.ConfigDict) -> str:
    """``"tfds"`` or ``"memory"``: the source ``config.data.source`` names, ``"auto"`` resolved
    (``"tfds"`` where TensorFlow is installed)."""
    source = cfg.get("source") or "auto"
    if source not in SOURCES:
        raise ValueError(f"Unknown config.data.source={source!r}; choose one of {list(SOURCES)}.")
    if source == "auto":
        return "tfds" if installed("tensorflow") else "memory"
    return source


@dataclasses.dataclass(frozen=True)
class Dataset:
    """One ``config.data``, resolved: equal configs give equal (and equally hashed) datasets.

    Attributes:
      config: a frozen copy of the ``config.data`` section (sizes, ``data_dir``, ``manual_dir``,
        ``cache``, ``shuffle_buffer``, ``max_objects``, ...).
      spec: the registry's entry for the builder.
      builder: the TFDS builder name.
      variant: the TFDS config after ``/`` in the name (a procedural preset), or None.
      source: ``"tfds"`` (the tf.data pipeline) or ``"memory"`` (the in-memory source).
      train_split, eval_split: the TFDS splits training and evaluation read.
      crop: ``(y0, y1, x0, x1)`` applied before resizing, or None (none, or ``config.data.crop``
        False).
      most_objects: the most objects an image of this variant holds, if known.
      num_frames: the frames of each video, or None for an image dataset.
    """

    config: ml_collections.FrozenConfigDict
    spec: DatasetSpec = dataclasses.field(hash=False)
    builder: str
    variant: str | None
    source: str
    train_split: str
    eval_split: str
    crop: tuple[int, int, int, int] | None
    most_objects: int | None
    num_frames: int | None = None

    @property
    def name(self) -> str:
        """``config.data.name``."""
        return self.config.name

    @property
    def image_size(self) -> tuple[int, int]:
        """The batches' ``(height, width)``, after crop and resize."""
        return tuple(self.config.image_size)

    @property
    def targets(self) -> str | None:
        """``config.data.targets``: None, or ``"set_prediction"`` (property targets per object)."""
        return self.config.get("targets")

    @property
    def video(self) -> bool:
        """The examples are videos: batches hold ``video`` ``[b, T, H, W, 3]`` in place of
        ``image``, ``ids`` ``[b, T, H, W]``, ``boxes`` and ``centers``."""
        return self.spec.video

    @property
    def train_frames(self) -> int | None:
        """``config.data.train_frames``: the frames of each training window (a random window of
        each video, the same for every key), or None for whole videos. Evaluation reads whole
        videos."""
        return self.config.get("train_frames")

    @property
    def has_ids(self) -> bool:
        """The batches carry ``ids`` (segmentation metrics are possible)."""
        return self.spec.has_ids


def resolve(data: Dataset | ml_collections.ConfigDict) -> Dataset:
    """``config.data`` as a :class:`Dataset` (one registry lookup); a Dataset is returned as is.

    Raises ValueError for an unknown dataset name or source; :func:`slot_jax.data.check.check_data`
    checks the rest of ``config.data``.
    """
    if isinstance(data, Dataset):
        return data
    spec = registry.get_spec(data.name)
    builder, variant = registry.split_name(data.name)
    return Dataset(
        config=ml_collections.FrozenConfigDict(data.to_dict()), spec=spec, builder=builder,
        variant=variant, source=resolve_source(data), train_split=spec.train_split,
        eval_split=spec.eval_split,
        crop=spec.crop if data.get("crop", True) else None,
        most_objects=spec.most_objects(variant), num_frames=spec.frames(variant),
    )
