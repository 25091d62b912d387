"""Checks a config, and the directories a run writes, before anything is built, compiled or generated;
each problem is a one-line error that names the key and the fix.

:func:`validate_run` runs every check of a run once: the training keys here, the model's part
(:func:`slot_jax.models.build.check_model_config`), the data's (:func:`slot_jax.data.check.check_data`,
which resolves ``config.data`` to the run's :class:`slot_jax.data.Dataset`), how the model and the
data fit together, and the paths.
"""

from __future__ import annotations

import jax
import ml_collections

from slot_jax.data.check import check_data, check_data_dir
from slot_jax.data.dataset import Dataset, resolve
from slot_jax.lib.checks import ConfigError, check_choice, check_count, check_real, unwritable
from slot_jax.lib.parallel import MODES
from slot_jax.models.build import check_model_config
from slot_jax.models.video_init import COORDINATE_WIDTHS
from slot_jax.properties import NUM_PROPERTIES
from slot_jax.train.optim import SCHEDULES

__all__ = ["ConfigError", "validate_config", "validate_paths", "validate_run"]

NONFINITE_MODES = ("stop", "skip")

# (key, least value, what it is); every one an integer. The data's are checked by the data.
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
)


def _get(config: ml_collections.ConfigDict, key: str):
    value = config
    for part in key.split("."):
        value = value.get(part) if hasattr(value, "get") else None
    return value


def _check_training(config: ml_collections.ConfigDict, num_devices: int | None) -> None:
    """The training keys: choices, counts, rates, the schedule, the batch over the devices."""
    check_choice("parallelism", config.get("parallelism"), MODES)
    check_choice("on_nonfinite", config.get("on_nonfinite"), NONFINITE_MODES)
    check_choice("schedule", config.get("schedule", "paper"), SCHEDULES)
    for key, least, what in _COUNTS:
        check_count(key, _get(config, key), least, what)
    check_real("learning_rate", config.get("learning_rate"), "the peak learning rate; the paper: 4e-4",
               above=0)
    check_real("grad_clip_norm", config.get("grad_clip_norm"), "0 disables clipping; SAVi: 0.05",
               least=0)
    check_real("model.slot_attention.epsilon", _get(config, "model.slot_attention.epsilon"),
               "the paper: 1e-8", above=0)
    if config.get("schedule", "paper") == "paper":
        check_count("decay_steps", config.get("decay_steps"), 1, "steps per decay by decay_rate")
        check_real("decay_rate", config.get("decay_rate"), "the paper: 0.5", above=0, most=1)
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


def _check_model(config: ml_collections.ConfigDict) -> None:
    """The model's own check, and the grid encoder's width for Invariant Slot Attention."""
    try:  # the dtype, architecture, slot initialiser and the encoder/decoder geometry
        check_model_config(config.model, config.get("dtype"))
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if config.model.slot_attention.get("kind", "standard") != "standard":
        check_count("model.slot_attention.grid_hidden_size",
                    config.model.slot_attention.get("grid_hidden_size"), 1, "the grid encoder's width")


def _check_video(config: ml_collections.ConfigDict, dataset: Dataset) -> None:
    """A video model on video data and an image model on images; a conditional video model gets
    one slot per object row of the data plus the background; ``eval_slice_size`` frames."""
    video_model = config.model.architecture == "savi"
    if dataset.video and not video_model:
        raise ConfigError(
            f"config.data.name={dataset.name!r} is a video dataset (batches hold 'video' "
            f"[B, T, H, W, 3]) but config.model.architecture={config.model.architecture!r} is "
            "an image model; use a video model (slot_jax.savi_model_config) or an image dataset."
        )
    if not video_model:
        return
    if not dataset.video:
        raise ConfigError(
            f"config.model.architecture='savi' is a video model but config.data.name="
            f"{dataset.name!r} holds images; use a video dataset (e.g. "
            "procedural_moving_sprites/tiny) or an image model."
        )
    check_count("eval_slice_size", config.get("eval_slice_size"), 1,
                "frames per evaluated chunk; unset for the whole video", optional=True)
    k, most = config.model.num_slots, dataset.most_objects
    if config.model.slot_init in COORDINATE_WIDTHS and most and k != most + 1:
        raise ConfigError(
            f"config.model.num_slots={k} but the conditional slot_init="
            f"{config.model.slot_init!r} takes one slot per object row of {dataset.name!r} "
            f"({most}) plus the background; set config.model.num_slots={most + 1}."
        )


def _check_fit(config: ml_collections.ConfigDict, dataset: Dataset) -> None:
    """The model and the data together: images or video, image channels and size, the task,
    slots per object."""
    _check_video(config, dataset)
    if config.model.num_channels != 3:
        raise ConfigError(
            f"config.model.num_channels={config.model.num_channels} but every dataset's images are "
            "RGB; set config.model.num_channels=3."
        )
    data_size, model_size = dataset.image_size, tuple(config.model.image_size)
    if data_size != model_size:
        raise ConfigError(
            f"config.data.image_size={data_size} but config.model.image_size={model_size}; "
            "set both to the same size."
        )
    set_prediction = config.model.architecture == "set_prediction"
    if set_prediction:
        if not dataset.spec.has_properties:
            raise ConfigError(
                f"Set prediction needs object properties; {dataset.name!r} has none "
                "(use clevr or procedural_clevr)."
            )
        if dataset.targets != "set_prediction":
            raise ConfigError("Set prediction needs config.data.targets='set_prediction'.")
        width = tuple(config.model.head.features)
        if not width or width[-1] != NUM_PROPERTIES:
            raise ConfigError(
                f"config.model.head.features={width} must end in {NUM_PROPERTIES}, the width of "
                f"the property targets; set its last entry to {NUM_PROPERTIES}."
            )
    k = config.model.num_slots
    most = dataset.most_objects
    if config.data.get("max_objects"):
        most = min(most or config.data.max_objects, config.data.max_objects)
    # Object discovery also needs a slot for the background.
    need = (most or 0) + (0 if set_prediction else 1)
    if k < max(need, 1):
        what = "objects" if set_prediction else "objects plus background"
        raise ConfigError(
            f"config.model.num_slots={k} is too few for {dataset.name!r}, whose images hold up "
            f"to {most} {what}; use num_slots >= {need}."
        )
    if set_prediction and config.data.max_set_size > k:
        raise ConfigError(
            f"config.data.max_set_size={config.data.max_set_size} exceeds "
            f"config.model.num_slots={k}; every target needs a slot."
        )


def validate_config(config: ml_collections.ConfigDict, num_devices: int | None = None) -> Dataset:
    """Raises :class:`ConfigError` for the first inconsistency found: the training keys, then the
    model's part, the data's, and how the two fit; returns ``config.data`` resolved (the run's one
    registry lookup).

    ``num_devices`` is the number of devices the batch is split over (default: all).
    """
    _check_training(config, num_devices)
    _check_model(config)
    dataset = check_data(config.data)
    _check_fit(config, dataset)
    return dataset


def validate_paths(
    config: ml_collections.ConfigDict, workdir: str | None = None, dataset: Dataset | None = None
) -> None:
    """Raises :class:`ConfigError` when ``workdir`` cannot be created or written, or when
    ``config.data`` must be generated or converted (procedural and DeepMind datasets not prepared
    yet) into a data dir that cannot be written (:func:`slot_jax.data.check.check_data_dir`). Run
    after :func:`validate_config`; ``dataset`` is what it returned (default: ``config.data``
    resolved here)."""
    if workdir is not None:
        problem = unwritable(workdir)
        if problem:
            raise ConfigError(
                f"--workdir={workdir} {problem}; pass a directory this process can write."
            )
    check_data_dir(resolve(config.data) if dataset is None else dataset)


def validate_run(
    config: ml_collections.ConfigDict, workdir: str | None = None, num_devices: int | None = None
) -> Dataset:
    """Every check of a run, once: :func:`validate_config`, then :func:`validate_paths`. Returns
    ``config.data`` resolved, for :func:`slot_jax.train.build_setup` and everything after it."""
    dataset = validate_config(config, num_devices)
    validate_paths(config, workdir, dataset)
    return dataset
