"""Small shared building blocks: the Keras-default initialiser and the MLP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

# The official TF2 code uses Keras defaults: glorot-uniform kernels, zero biases.
glorot = nn.initializers.xavier_uniform()


class MLP(nn.Module):
    """``Dense(h, ReLU) -> ... -> Dense(out)`` over the last axis.

    Input ``[..., D_in]``, output ``[..., features[-1]]``. No activation after the last layer.
    """

    features: Sequence[int]
    dtype: Any = None

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        for i, size in enumerate(self.features):
            x = nn.Dense(size, kernel_init=glorot, dtype=self.dtype, name=f"dense_{i}")(x)
            if i < len(self.features) - 1:
                x = nn.relu(x)
        return x


def check_rank(x: jnp.ndarray, rank: int, what: str, layout: str) -> None:
    """Raises a ValueError naming ``what`` if ``x`` does not have ``rank`` dimensions."""
    if x.ndim != rank:
        raise ValueError(f"{what} must have shape {layout} ({rank} dims), got shape {tuple(x.shape)}.")
