"""The broadcast decoder's first convolution, computed without the broadcast."""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from slot_jax import ops
from slot_jax.models.layers import ConvParams, add_conv_bias, conv_kernel


class BroadcastConv(ConvParams):
    """``nn.Conv(features, kernel_size, padding="SAME")`` of ``tile(vectors) + shared``.

    Inputs ``vectors [N, D]`` and ``shared [1, H, W, D]`` (or ``[H, W, D]``); output
    ``[N, H, W, features]``, equal to ``nn.Conv`` applied to the ``[N, H, W, D]`` map
    ``vectors[:, None, None, :] + shared`` to float rounding. :func:`slot_jax.ops.broadcast_conv`
    never builds that map (D times fewer multiply-adds). The parameters have ``nn.Conv``'s names,
    shapes and initialisers, so checkpoints and ported weights load unchanged.
    """

    @nn.compact
    def __call__(self, vectors: jnp.ndarray, shared: jnp.ndarray) -> jnp.ndarray:
        if vectors.ndim != 2:
            raise ValueError(f"BroadcastConv vectors must be [N, D], got shape {vectors.shape}.")
        shared = shared.reshape((1, *shared.shape[-3:]))
        if shared.shape[-1] != vectors.shape[-1]:
            raise ValueError(
                f"BroadcastConv: vectors have {vectors.shape[-1]} channels but the shared map has "
                f"{shared.shape[-1]}; they are added, so they must match."
            )
        kernel = conv_kernel(self, vectors.shape[-1])
        dtype = self.dtype or jnp.result_type(vectors.dtype, shared.dtype)
        y = ops.broadcast_conv(vectors.astype(dtype), shared.astype(dtype), kernel.astype(dtype))
        return add_conv_bias(self, y)
