"""Applies a model to a (shard of a) batch with slot noise drawn for the global batch; a video
model also to its conditioning, read from the batch."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp


def slot_noise(
    model: nn.Module, rng: jax.Array, local_batch: int, axis_name: str | None
) -> jnp.ndarray | dict | None:
    """Standard-normal slot noise ``[local_batch, K, D]``, drawn for the *global* batch (for a
    pose initialiser, the dict of its ``sample_noise``, each entry ``[local_batch, ...]``).

    Under ``pmap`` (``axis_name`` set) each device draws the global noise and keeps its slice, so
    the slots, and hence the losses, do not depend on the number of devices or the parallel mode.
    """
    init = model.slot_init
    k, d = init.num_slots, init.slot_size
    n = 1 if axis_name is None else jax.lax.psum(1, axis_name)
    if hasattr(init, "sample_noise"):  # a pose initialiser: a dict of draws (or None)
        noise = init.sample_noise(rng, local_batch * n)
    else:
        noise = jax.random.normal(rng, (local_batch * n, k, d))
    if axis_name is None:
        return noise
    start = jax.lax.axis_index(axis_name) * local_batch
    return jax.tree.map(lambda x: jax.lax.dynamic_slice_in_dim(x, start, local_batch), noise)


def forward(
    model: nn.Module, params: Any, image: jnp.ndarray, rng: jax.Array, axis_name: str | None
) -> dict[str, jnp.ndarray]:
    """The model's outputs for ``image [b, H, W, C]`` with slot noise from ``rng``."""
    noise = slot_noise(model, rng, image.shape[0], axis_name)
    return model.apply({"params": params}, image, noise)


# The batch key of each conditional initialiser's coordinates (``CoordinateInit.coordinates``).
CONDITIONING_KEYS = {"boxes": "boxes", "centres": "centers"}


def conditioning(model: nn.Module, batch: dict) -> jnp.ndarray | None:
    """A video model's conditioning from ``batch``: the first frame's ``boxes`` ``[b, K - 1, 4]``
    or ``centers`` ``[b, K - 1, 2]`` for a conditional initialiser, else None."""
    if not model.conditional:
        return None
    return batch[CONDITIONING_KEYS[model.slot_init.coordinates]][:, 0]


def video_forward(
    model: nn.Module, params: Any, batch: dict, rng: jax.Array, axis_name: str | None,
    initial_slots: jnp.ndarray | None = None,
) -> dict[str, jnp.ndarray]:
    """A video model's outputs for ``batch["video"] [b, T, H, W, C]``: slot noise from ``rng``,
    the conditioning from the batch (:func:`conditioning`), or ``initial_slots`` carried over from
    the previous chunk of the same videos."""
    video = batch["video"]
    noise = slot_noise(model, rng, video.shape[0], axis_name)
    return model.apply(
        {"params": params}, video, noise, conditioning(model, batch), initial_slots
    )
