"""Checks a config, and the directories a run writes, before anything is built, compiled or generated;
each problem is a one-line error that names the key and the fix."""

from __future__ import annotations

import math
import os

import jax
import ml_collections

from slot_jax.data.iterators import SOURCES, resolve_source
from slot_jax.data.registry import get_spec, split_name
from slot_jax.lib.parallel import MODES
from slot_jax.lib.quiet import installed
from slot_jax.models.build import check_model_config
from slot_jax.properties import NUM_PROPERTIES
from slot_jax.train.optim import SCHEDULES

NONFINITE_MODES = ("stop", "skip")
TARGETS = (None, "set_prediction")

# (key, least value, what it is); every one an integer. Optional keys (None: the default) follow.
_COUNTS = (
    ("batch_size", 1, "the global training batch"),
    ("eval_batch_size", 1, "the global evaluation batch"),
    ("num_train_steps", 1, "training steps"),
    ("warmup_steps", 0, "learning-rate warm-up steps; 0 for none"),
    ("log_every", 1, "steps between logged scalars"),
    ("checkpoint_every", 1, "steps between checkpoints"),
    ("image_log_every", 0, "steps between slot images; 0 for none"),
    ("eval_every", 0, "steps between evaluations; 0 for none"),
    ("keep_checkpoints", 1, "checkpoints kept"),
    ("model.num_slots", 1, "slots"),
    ("model.slot_size", 1, "the slot width"),
    ("model.slot_attention.num_iterations", 1, "attention iterations (the paper: 3)"),
    ("model.slot_attention.mlp_hidden_size", 1, "the slot MLP's width"),
    ("model.slot_attention.num_heads", 1, "attention heads (the paper: 1)"),
    ("data.shuffle_buffer", 1, "shuffled examples in memory"),
    ("data.max_set_size", 1, "objects per set-prediction target"),
)
_OPTIONAL_COUNTS = (
    ("data.num_train", 1, "generated training examples; unset for the builder's"),
    ("data.num_eval", 1, "held-out examples; unset for the builder's"),
    ("data.max_objects", 1, "the most objects an image may hold; unset for all images"),
    ("data.eval_examples", 1, "evaluated examples; unset for the whole split"),
)


class ConfigError(ValueError):
    """A config that cannot train; the message names the key and the fix."""


def _get(config: ml_collections.ConfigDict, key: str):
    value = config
    for part in key.split("."):
        value = value.get(part) if hasattr(value, "get") else None
    return value


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_count(config, key: str, least: int, what: str, optional: bool = False) -> None:
    value = _get(config, key)
    if optional and value is None:
        return
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= least):
        raise ConfigError(
            f"config.{key}={value!r} must be an integer >= {least} ({what}); set "
            f"--config.{key} to one."
        )


def _check_real(config, key: str, what: str, *, above: float | None = None,
                least: float | None = None, most: float | None = None) -> None:
    value = _get(config, key)
    ok = _is_number(value) and (above is None or value > above) and (least is None or value >= least)
    if not (ok and (most is None or value <= most)):
        bounds = [f"> {above}" if above is not None else f">= {least}"]
        bounds += [f"<= {most}"] if most is not None else []
        raise ConfigError(
            f"config.{key}={value!r} must be a finite number {' and '.join(bounds)} ({what}); set "
            f"--config.{key} to one."
        )


def _check_choice(key: str, value, choices) -> None:
    if value not in choices:
        raise ConfigError(f"Unknown config.{key}={value!r}; choose one of {list(choices)}.")


def _check_dataset(name: str):
    """The spec of ``config.data.name``; its TFDS config (after '/') must be one the builder has."""
    try:
        spec = get_spec(name)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    builder, config = split_name(name)
    if config:
        if spec.procedural:  # the TFDS configs are the generator's presets
            from slot_jax.data.procedural import GENERATORS

            known = list(GENERATORS[builder].PRESETS)
        else:
            import tensorflow_datasets as tfds

            import slot_jax.data  # noqa: F401  (registers the builders)

            known = [c.name for c in tfds.builder_cls(builder).BUILDER_CONFIGS or ()]
        if config not in known:
            raise ConfigError(
                f"Unknown config.data.name={name!r}: {builder!r} has "
                + (f"the configs {known}; use '{builder}/<config>'." if known else
                   f"no configs; use {builder!r}.")
            )
    return spec


def _check_source(config: ml_collections.ConfigDict, spec) -> None:
    """The input source can read ``config.data`` here (see :mod:`slot_jax.data.iterators`)."""
    _check_choice("data.source", config.data.get("source") or "auto", SOURCES)
    if resolve_source(config.data) == "tfds":
        if not installed("tensorflow"):
            raise ConfigError(
                f"config.data.source={config.data.source!r} needs TensorFlow, which is not "
                "installed; install tensorflow-cpu and tensorflow-datasets, or set "
                "config.data.source='memory' (procedural datasets)."
            )
        return
    if not spec.procedural:
        raise ConfigError(
            f"config.data.source='memory' makes procedural datasets only, not "
            f"{config.data.name!r}; set config.data.source='tfds' (needs TensorFlow)."
        )
    if config.data.get("targets"):
        raise ConfigError(
            f"config.data.targets={config.data.targets!r} needs the tf.data source; set "
            "config.data.source='tfds' (needs TensorFlow)."
        )


def validate_config(config: ml_collections.ConfigDict, num_devices: int | None = None) -> None:
    """Raises :class:`ConfigError` for the first inconsistency found.

    ``num_devices`` is the number of devices the batch is split over (default: all).
    """
    _check_choice("parallelism", config.get("parallelism"), MODES)
    _check_choice("on_nonfinite", config.get("on_nonfinite"), NONFINITE_MODES)
    _check_choice("schedule", config.get("schedule", "paper"), SCHEDULES)
    for key, least, what in _COUNTS:
        _check_count(config, key, least, what)
    for key, least, what in _OPTIONAL_COUNTS:
        _check_count(config, key, least, what, optional=True)
    _check_real(config, "learning_rate", "the peak learning rate; the paper: 4e-4", above=0)
    _check_real(config, "grad_clip_norm", "0 disables clipping; SAVi: 0.05", least=0)
    _check_real(config, "model.slot_attention.epsilon", "the paper: 1e-8", above=0)
    if config.get("schedule", "paper") == "paper":
        _check_count(config, "decay_steps", 1, "steps per decay by decay_rate")
        _check_real(config, "decay_rate", "the paper: 0.5", above=0, most=1)
    elif config.warmup_steps >= config.num_train_steps:
        raise ConfigError(
            f"config.warmup_steps={config.warmup_steps} leaves no cosine decay within "
            f"config.num_train_steps={config.num_train_steps} (config.schedule='warmup_cosine'); "
            "use warmup_steps < num_train_steps."
        )
    n = num_devices or jax.device_count()
    for key in ("batch_size", "eval_batch_size"):
        if config[key] % n:
            raise ConfigError(
                f"config.{key}={config[key]} is not divisible by the {n} devices; "
                f"use a multiple of {n}."
            )
    try:  # the dtype, architecture, slot initialiser and the encoder/decoder geometry
        check_model_config(config.model, config.get("dtype"))
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if config.model.slot_attention.get("kind", "standard") != "standard":
        _check_count(config, "model.slot_attention.grid_hidden_size", 1, "the grid encoder's width")
    if config.model.num_channels != 3:
        raise ConfigError(
            f"config.model.num_channels={config.model.num_channels} but every dataset's images are "
            "RGB; set config.model.num_channels=3."
        )
    spec = _check_dataset(config.data.name)
    _check_source(config, spec)
    data_size, model_size = tuple(config.data.image_size), tuple(config.model.image_size)
    if data_size != model_size:
        raise ConfigError(
            f"config.data.image_size={data_size} but config.model.image_size={model_size}; "
            "set both to the same size."
        )
    targets = config.data.get("targets")
    if targets not in TARGETS:
        raise ConfigError(
            f"Unknown config.data.targets={targets!r}; choose one of {list(TARGETS)} "
            "(None: images only)."
        )
    if targets and not spec.has_properties:
        raise ConfigError(
            f"config.data.targets={targets!r} needs object properties; {config.data.name!r} has "
            "none (use clevr or procedural_clevr, or leave targets unset)."
        )
    set_prediction = config.model.architecture == "set_prediction"
    if set_prediction:
        if not spec.has_properties:
            raise ConfigError(
                f"Set prediction needs object properties; {config.data.name!r} has none "
                "(use clevr or procedural_clevr)."
            )
        if targets != "set_prediction":
            raise ConfigError("Set prediction needs config.data.targets='set_prediction'.")
        width = tuple(config.model.head.features)
        if not width or width[-1] != NUM_PROPERTIES:
            raise ConfigError(
                f"config.model.head.features={width} must end in {NUM_PROPERTIES}, the width of "
                f"the property targets; set its last entry to {NUM_PROPERTIES}."
            )
    k = config.model.num_slots
    most = spec.most_objects(split_name(config.data.name)[1])
    if config.data.get("max_objects"):
        most = min(most or config.data.max_objects, config.data.max_objects)
    # Object discovery also needs a slot for the background.
    need = (most or 0) + (0 if set_prediction else 1)
    if k < max(need, 1):
        what = "objects" if set_prediction else "objects plus background"
        raise ConfigError(
            f"config.model.num_slots={k} is too few for {config.data.name!r}, whose images hold up "
            f"to {most} {what}; use num_slots >= {need}."
        )
    if set_prediction and config.data.max_set_size > k:
        raise ConfigError(
            f"config.data.max_set_size={config.data.max_set_size} exceeds "
            f"config.model.num_slots={k}; every target needs a slot."
        )


def _unwritable(path: str) -> str | None:
    """Why the directory ``path`` cannot be created or written, or None if it can."""
    if "://" in path:  # a remote file system (gs://...): left to it
        return None
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.exists(path) and not os.path.isdir(path):
        return "is a file, not a directory"
    parent = path
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        return f"cannot be created: {parent!r} is a file"
    if not os.access(parent, os.W_OK | os.X_OK):
        return "is not writable" if parent == path else f"cannot be created in {parent!r}"
    return None


def validate_paths(config: ml_collections.ConfigDict, workdir: str | None = None) -> None:
    """Raises :class:`ConfigError` when ``workdir`` cannot be created or written, or when
    ``config.data`` must be generated or converted (procedural and DeepMind datasets not prepared
    yet) into a data dir that cannot be written. Run after :func:`validate_config`."""
    if workdir is not None:
        problem = _unwritable(workdir)
        if problem:
            raise ConfigError(
                f"--workdir={workdir} {problem}; pass a directory this process can write."
            )
    data_dir = config.data.get("data_dir")
    if data_dir:
        problem = _unwritable(data_dir)
        if problem and problem.startswith("is a file"):
            raise ConfigError(
                f"config.data.data_dir={data_dir!r} {problem}; set it to a directory."
            )
    spec = get_spec(config.data.name)
    if not (spec.procedural or spec.manual) or resolve_source(config.data) == "memory":
        return  # nothing to write: read only (an unprepared download is a FileNotFoundError
        # naming the command), or generated into memory
    from tensorflow_datasets.core.constants import DATASET_INFO_FILENAME

    from slot_jax.data.sources import make_builder

    folder = str(make_builder(config.data).data_dir)
    if os.path.exists(os.path.join(folder, DATASET_INFO_FILENAME)):  # prepared (is_prepared() warns)
        return
    problem = _unwritable(folder)
    if problem:
        where = f"config.data.data_dir={data_dir!r}" if data_dir else "the TFDS data dir (default)"
        raise ConfigError(
            f"{where}: {config.data.name!r} is not prepared there and its folder {folder!r} "
            f"{problem}; set config.data.data_dir to a directory this process can write."
        )
