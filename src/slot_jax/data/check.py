"""The data's own checks: ``config.data`` before a run reads it, and the folder it is prepared in.

Each problem is a one-line :class:`slot_jax.lib.checks.ConfigError` that names the key and the fix.
:func:`slot_jax.train.validate.validate_config` calls :func:`check_data` after the model's check;
how the data and the model fit together (image size, slots per object) is checked there.
"""

from __future__ import annotations

import os

import ml_collections

from slot_jax.data.dataset import Dataset, resolve
from slot_jax.lib.checks import ConfigError, check_count, unwritable
from slot_jax.lib.quiet import installed

TARGETS = (None, "set_prediction")

# (key under config.data, least value, what it is); every one an integer.
_COUNTS = (
    ("shuffle_buffer", 1, "shuffled examples in memory"),
    ("max_set_size", 1, "objects per set-prediction target"),
)
_OPTIONAL_COUNTS = (  # None: the default
    ("num_train", 1, "generated training examples; unset for the builder's"),
    ("num_eval", 1, "held-out examples; unset for the builder's"),
    ("max_objects", 1, "the most objects an image may hold; unset for all images"),
    ("eval_examples", 1, "evaluated examples; unset for the whole split"),
    ("train_frames", 1, "frames per training window of a video; unset for whole videos"),
)


def check_data(cfg: ml_collections.ConfigDict) -> Dataset:
    """``config.data`` resolved (:func:`slot_jax.data.dataset.resolve`, the one registry lookup of
    a run), after checking its sizes, its name and TFDS config, that its source can read it here,
    and its targets. Raises :class:`ConfigError` for the first problem found. Whether the model
    suits images or videos is checked with the model (:mod:`slot_jax.train.validate`)."""
    for key, least, what in _COUNTS:
        check_count(f"data.{key}", cfg.get(key), least, what)
    for key, least, what in _OPTIONAL_COUNTS:
        check_count(f"data.{key}", cfg.get(key), least, what, optional=True)
    try:
        dataset = resolve(cfg)
    except ValueError as err:  # an unknown name or source
        raise ConfigError(str(err)) from None
    _check_variant(dataset)
    _check_frames(dataset)
    _check_source(dataset)
    check_targets(dataset)
    return dataset


def _check_frames(dataset: Dataset) -> None:
    """``config.data.train_frames`` is for videos, and at most the frames a video has."""
    frames = dataset.train_frames
    if frames is None:
        return
    if not dataset.video:
        raise ConfigError(
            f"config.data.train_frames={frames} is for video datasets; {dataset.name!r} holds "
            "images; leave it unset."
        )
    if dataset.num_frames and frames > dataset.num_frames:
        raise ConfigError(
            f"config.data.train_frames={frames} exceeds the {dataset.num_frames} frames of each "
            f"{dataset.name!r} video; set it to at most {dataset.num_frames} (unset: whole videos)."
        )


def _check_variant(dataset: Dataset) -> None:
    """The TFDS config after '/' in the name must be one the builder has (a prepared copy's
    configs are its folders: a missing one is reported when the data is read)."""
    if not dataset.variant or dataset.spec.external:
        return
    builder = dataset.builder
    if dataset.spec.procedural:  # the TFDS configs are the generator's presets
        from slot_jax.data.procedural import GENERATORS

        known = list(GENERATORS[builder].PRESETS)
    else:
        import tensorflow_datasets as tfds

        import slot_jax.data  # noqa: F401  (registers the builders)

        known = [c.name for c in tfds.builder_cls(builder).BUILDER_CONFIGS or ()]
    if dataset.variant not in known:
        raise ConfigError(
            f"Unknown config.data.name={dataset.name!r}: {builder!r} has "
            + (f"the configs {known}; use '{builder}/<config>'." if known else
               f"no configs; use {builder!r}.")
        )


def _check_source(dataset: Dataset) -> None:
    """The input source can read the dataset here (see :mod:`slot_jax.data.iterators`)."""
    if dataset.source == "memory":
        check_memory(dataset)
    elif not installed("tensorflow"):
        raise ConfigError(
            f"config.data.source={dataset.config.source!r} needs TensorFlow, which is not "
            "installed; install tensorflow-cpu and tensorflow-datasets, or set "
            "config.data.source='memory' (procedural datasets)."
        )


def check_memory(dataset: Dataset) -> None:
    """The in-memory source (:mod:`slot_jax.data.memory`) makes procedural images only."""
    if not dataset.spec.procedural:
        raise ConfigError(
            f"config.data.source='memory' makes procedural datasets only, not "
            f"{dataset.name!r}; set config.data.source='tfds' (needs TensorFlow)."
        )
    if dataset.targets:
        raise ConfigError(
            f"config.data.targets={dataset.targets!r} needs the tf.data source; set "
            "config.data.source='tfds' (needs TensorFlow)."
        )


def check_targets(dataset: Dataset) -> None:
    """``config.data.targets`` is None or ``"set_prediction"`` on a dataset with properties."""
    if dataset.targets not in TARGETS:
        raise ConfigError(
            f"Unknown config.data.targets={dataset.targets!r}; choose one of {list(TARGETS)} "
            "(None: images only)."
        )
    if dataset.targets and not dataset.spec.has_properties:
        raise ConfigError(
            f"config.data.targets={dataset.targets!r} needs object properties; {dataset.name!r} "
            "has none (use clevr or procedural_clevr, or leave targets unset)."
        )


def check_data_dir(dataset: Dataset) -> None:
    """Raises :class:`ConfigError` when ``config.data.data_dir`` is a file, or when the dataset
    must be generated or converted (procedural and DeepMind datasets not prepared yet) into a
    folder this process cannot write."""
    data_dir = dataset.config.get("data_dir")
    if data_dir:
        problem = unwritable(data_dir)
        if problem and problem.startswith("is a file"):
            raise ConfigError(
                f"config.data.data_dir={data_dir!r} {problem}; set it to a directory."
            )
    if not (dataset.spec.procedural or dataset.spec.manual) or dataset.source == "memory":
        return  # nothing to write: read only (an unprepared download is a FileNotFoundError
        # naming the command), or generated into memory
    from tensorflow_datasets.core.constants import DATASET_INFO_FILENAME

    from slot_jax.data.sources import make_builder

    folder = str(make_builder(dataset).data_dir)
    if os.path.exists(os.path.join(folder, DATASET_INFO_FILENAME)):  # prepared (is_prepared() warns)
        return
    problem = unwritable(folder)
    if problem:
        where = f"config.data.data_dir={data_dir!r}" if data_dir else "the TFDS data dir (default)"
        raise ConfigError(
            f"{where}: {dataset.name!r} is not prepared there and its folder {folder!r} "
            f"{problem}; set config.data.data_dir to a directory this process can write."
        )
