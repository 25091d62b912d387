"""Soft position embedding of the Slot Attention paper."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from slot_jax.models.layers import glorot


def build_grid(height: int, width: int) -> jnp.ndarray:
    """The paper's fixed 4-channel position grid.

    Returns:
      float32 ``[1, height, width, 4]`` holding ``(y, x, 1 - y, 1 - x)`` with each axis
      from ``linspace(0, 1)``.
    """
    ys = jnp.linspace(0.0, 1.0, height, dtype=jnp.float32)
    xs = jnp.linspace(0.0, 1.0, width, dtype=jnp.float32)
    grid = jnp.stack(jnp.meshgrid(ys, xs, indexing="ij"), axis=-1)
    return jnp.concatenate([grid, 1.0 - grid], axis=-1)[None]


class SoftPositionEmbed(nn.Module):
    """Adds ``Dense(4 -> C)(grid)`` to a feature map (the official module).

    Input ``[B, H, W, C]``, output ``[B, H, W, C]``. The grid is built from the input's static
    spatial shape, so the module works at any resolution.
    """

    dtype: Any = None

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        if x.ndim != 4:
            raise ValueError(
                f"SoftPositionEmbed expects a feature map [B, H, W, C], got shape {x.shape}."
            )
        grid = build_grid(x.shape[1], x.shape[2])
        emb = nn.Dense(x.shape[-1], kernel_init=glorot, dtype=self.dtype, name="dense")(grid)
        return x + emb.astype(x.dtype)


def build_linear_grid(height: int, width: int) -> jnp.ndarray:
    """Absolute ``(y, x)`` pixel coordinates, each axis from ``linspace(-1, 1)``.

    Returns:
      float32 ``[height, width, 2]``; the grid Invariant Slot Attention measures poses on (flatten
      it to ``[height * width, 2]`` for :class:`~slot_jax.models.InvariantSlotAttention`).
    """
    ys = jnp.linspace(-1.0, 1.0, height, dtype=jnp.float32)
    xs = jnp.linspace(-1.0, 1.0, width, dtype=jnp.float32)
    return jnp.stack(jnp.meshgrid(ys, xs, indexing="ij"), axis=-1)
