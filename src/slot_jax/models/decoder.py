"""The spatial broadcast decoder with alpha compositing over slots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from slot_jax import ops
from slot_jax.models.broadcast_conv import BroadcastConv
from slot_jax.models.layers import Conv, check_rank
from slot_jax.models.position import SoftPositionEmbed
from slot_jax.models.upsample import ConvTransposeSubpixel


def alpha_composite(decoded: jnp.ndarray) -> dict[str, jnp.ndarray]:
    """Splits per-slot decoder output into RGB and alpha, and composites over slots.

    Args:
      decoded: ``[B, K, H, W, C + 1]``: C colour channels, then one alpha logit.

    Returns:
      ``recon [B, H, W, C]``, ``rgb [B, K, H, W, C]`` and ``masks [B, K, H, W, 1]`` (a softmax over
      slots, float32, so it sums to 1 at every pixel).
    """
    rgb, logits = decoded[..., :-1], decoded[..., -1:]
    masks = jax.nn.softmax(logits.astype(jnp.float32), axis=1)
    recon = jnp.sum(masks * rgb.astype(jnp.float32), axis=1)
    return {"recon": recon, "rgb": rgb, "masks": masks}


def conv_layer(features: int, kernel: int, stride: int, dtype: Any, name: str) -> nn.Module:
    """A decoder layer ``[N, H, W, C] -> [N, H*stride, W*stride, features]``: the transposed
    convolution in sub-pixel form for ``stride > 1``, else :class:`~slot_jax.models.layers.Conv`
    (``nn.Conv(padding="SAME")``); glorot kernels, zero biases."""
    ks = (kernel, kernel)
    if stride > 1:
        return ConvTransposeSubpixel(features, ks, (stride, stride), dtype=dtype, name=name)
    return Conv(features, ks, dtype=dtype, name=name)


class SpatialBroadcastDecoder(nn.Module):
    """Decodes each slot separately from a broadcast grid, then alpha-composites.

    Each slot ``[D]`` is tiled to ``broadcast_size``, gets a soft position embedding, and goes
    through ``len(features)`` ReLU convolutions (transposed, sub-pixel form, where the stride is > 1;
    see :func:`slot_jax.ops.conv_transpose`) and a final ``Conv(num_channels + 1, output_kernel_size)``.

    CLEVR (paper): ``broadcast_size=(8, 8), features=(64,)*5, strides=(2, 2, 2, 2, 1)`` -> 128x128.
    Sprites (paper): ``broadcast_size=(64, 64), features=(32,)*3, strides=(1, 1, 1)``.

    When the first layer has stride 1 (the sprites decoder), it is computed as
    :class:`~slot_jax.models.broadcast_conv.BroadcastConv`, equal to the convolution of the
    broadcast map to float rounding at D times fewer multiply-adds; ``factorized_first_conv=False``
    builds the broadcast map instead. The parameters are the same either way.

    Input ``slots [B, K, D]``; output the dict of :func:`alpha_composite` at
    ``output_size = broadcast_size * prod(strides)``.
    """

    broadcast_size: Sequence[int] = (8, 8)
    features: Sequence[int] = (64, 64, 64, 64, 64)
    strides: Sequence[int] = (2, 2, 2, 2, 1)
    kernel_size: int = 5
    output_kernel_size: int = 3
    num_channels: int = 3
    factorized_first_conv: bool = True
    dtype: Any = None

    @property
    def output_size(self) -> tuple[int, int]:
        """``(H, W)`` of the decoded images: ``broadcast_size * prod(strides)``."""
        up = math.prod(self.strides)
        return (self.broadcast_size[0] * up, self.broadcast_size[1] * up)

    @nn.compact
    def __call__(self, slots: jnp.ndarray) -> dict[str, jnp.ndarray]:
        check_rank(slots, 3, "SpatialBroadcastDecoder slots", "[B, K, D]")
        if len(self.strides) != len(self.features):
            raise ValueError(
                f"decoder strides {tuple(self.strides)} and features {tuple(self.features)} "
                "differ in length."
            )
        b, k, d = slots.shape
        h, w = self.broadcast_size
        ks = (self.kernel_size, self.kernel_size)
        dtype = self.dtype or slots.dtype
        first = 0
        if self.factorized_first_conv and self.strides and self.strides[0] == 1:
            # conv(tile(slot) + embedding), the broadcast never built: see ops/broadcast.py
            emb = SoftPositionEmbed(dtype=self.dtype, name="pos_embed")(jnp.zeros((1, h, w, d), dtype))
            x = BroadcastConv(self.features[0], ks, dtype=self.dtype, name="conv_0")(
                slots.reshape(b * k, d).astype(dtype), emb
            )
            x, first = ops.relu(x), 1
        else:
            x = jnp.broadcast_to(slots.reshape(b * k, 1, 1, d), (b * k, h, w, d)).astype(dtype)
            x = SoftPositionEmbed(dtype=self.dtype, name="pos_embed")(x)
        for i, (feat, stride) in enumerate(zip(self.features, self.strides, strict=True)):
            if i < first:
                continue
            x = ops.relu(conv_layer(feat, self.kernel_size, stride, self.dtype, f"conv_{i}")(x))
        x = conv_layer(self.num_channels + 1, self.output_kernel_size, 1, self.dtype, "output")(x)
        return alpha_composite(x.reshape(b, k, *x.shape[1:]))
