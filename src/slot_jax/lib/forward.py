"""Applies a model to a (shard of a) batch with slot noise drawn for the global batch."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp


def slot_noise(
    model: nn.Module, rng: jax.Array, local_batch: int, axis_name: str | None
) -> jnp.ndarray:
    """Standard-normal slot noise ``[local_batch, K, D]``, drawn for the *global* batch.

    Under ``pmap`` (``axis_name`` set) each device draws the global noise and keeps its slice, so
    the slots, and hence the losses, do not depend on the number of devices or the parallel mode.
    """
    k, d = model.slot_init.num_slots, model.slot_init.slot_size
    if axis_name is None:
        return jax.random.normal(rng, (local_batch, k, d))
    n = jax.lax.psum(1, axis_name)
    noise = jax.random.normal(rng, (local_batch * n, k, d))
    start = jax.lax.axis_index(axis_name) * local_batch
    return jax.lax.dynamic_slice_in_dim(noise, start, local_batch)


def forward(
    model: nn.Module, params: Any, image: jnp.ndarray, rng: jax.Array, axis_name: str | None
) -> dict[str, jnp.ndarray]:
    """The model's outputs for ``image [b, H, W, C]`` with slot noise from ``rng``."""
    noise = slot_noise(model, rng, image.shape[0], axis_name)
    return model.apply({"params": params}, image, noise)
