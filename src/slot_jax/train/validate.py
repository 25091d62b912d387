"""Checks a config before anything is built or compiled; each problem is a one-line error."""

from __future__ import annotations

import jax
import ml_collections

from slot_jax.data.registry import get_spec, split_name
from slot_jax.lib.parallel import MODES
from slot_jax.train.optim import SCHEDULES

NONFINITE_MODES = ("stop", "skip")


class ConfigError(ValueError):
    """A config that cannot train; the message names the key and the fix."""


def validate_config(config: ml_collections.ConfigDict, num_devices: int | None = None) -> None:
    """Raises :class:`ConfigError` for the first inconsistency found.

    ``num_devices`` is the number of devices the batch is split over (default: all).
    """
    if config.num_train_steps <= 0:
        raise ConfigError(f"config.num_train_steps must be positive, got {config.num_train_steps}.")
    if config.batch_size <= 0:
        raise ConfigError(f"config.batch_size must be positive, got {config.batch_size}.")
    n = num_devices or jax.device_count()
    if config.batch_size % n:
        raise ConfigError(
            f"config.batch_size={config.batch_size} is not divisible by the {n} devices; "
            f"use a multiple of {n}."
        )
    if config.parallelism not in MODES:
        raise ConfigError(f"Unknown config.parallelism={config.parallelism!r}; choose one of {MODES}.")
    if config.on_nonfinite not in NONFINITE_MODES:
        raise ConfigError(
            f"Unknown config.on_nonfinite={config.on_nonfinite!r}; choose one of {NONFINITE_MODES}."
        )
    if config.get("schedule", "paper") not in SCHEDULES:
        raise ConfigError(f"Unknown config.schedule={config.schedule!r}; choose one of {SCHEDULES}.")
    try:
        spec = get_spec(config.data.name)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    data_size, model_size = tuple(config.data.image_size), tuple(config.model.image_size)
    if data_size != model_size:
        raise ConfigError(
            f"config.data.image_size={data_size} but config.model.image_size={model_size}; "
            "set both to the same size."
        )
    set_prediction = config.model.architecture == "set_prediction"
    if set_prediction:
        if not spec.has_properties:
            raise ConfigError(
                f"Set prediction needs object properties; {config.data.name!r} has none "
                "(use clevr or procedural_clevr)."
            )
        if config.data.get("targets") != "set_prediction":
            raise ConfigError("Set prediction needs config.data.targets='set_prediction'.")
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
