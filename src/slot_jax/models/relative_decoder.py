"""The broadcast decoder of Invariant Slot Attention: each slot is decoded on its own pose's grid."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from slot_jax import ops
from slot_jax.models.decoder import alpha_composite, conv_layer
from slot_jax.models.layers import check_rank, glorot
from slot_jax.models.poses import relative_grid
from slot_jax.models.position import build_linear_grid

BACKBONES = ("cnn", "mlp")


class RelativeBroadcastDecoder(nn.Module):
    """The reference's ``SiameseSpatialBroadcastDecoder`` with relative positions (and scales and
    rotations): each slot ``[D]`` is tiled to ``broadcast_size``, ``Dense(D)`` of the grid in the
    slot's frame (``R^T (grid - position) / (scales_factor * scale)`` on a ``[-1, 1]`` grid) is
    added, and the result is decoded by a backbone, then alpha-composited over slots.

    * ``backbone="cnn"``: ``len(features)`` ReLU convolutions (transposed, sub-pixel form, where
      the stride is > 1) and a final ``Conv(num_channels + 1, output_kernel_size)``. CLEVR
      (reference): ``broadcast_size=(16, 16), features=(64,)*5, strides=(2, 2, 2, 1, 1)``.
    * ``backbone="mlp"``: a per-pixel MLP, ``Dense(f, ReLU)`` for each ``f`` in ``features``, then
      ``Dense(num_channels + 1)``; strides must be 1. Tetrominoes (reference: an MLP of 5 hidden
      layers of 256 and an activated 256-wide output, i.e. ``features=(256,)*6``) at 35x35.

    Input ``slots [B, K, D]`` and the poses of :class:`~slot_jax.models.InvariantSlotAttention`;
    output the dict of :func:`~slot_jax.models.alpha_composite` at ``output_size``.
    """

    broadcast_size: Sequence[int] = (16, 16)
    features: Sequence[int] = (64, 64, 64, 64, 64)
    strides: Sequence[int] = (2, 2, 2, 1, 1)
    kernel_size: int = 5
    output_kernel_size: int = 3
    num_channels: int = 3
    backbone: str = "cnn"
    scales_factor: float = 1.0
    dtype: Any = None

    @property
    def output_size(self) -> tuple[int, int]:
        """``(H, W)`` of the decoded images: ``broadcast_size * prod(strides)``."""
        up = math.prod(self.strides)
        return (self.broadcast_size[0] * up, self.broadcast_size[1] * up)

    def _backbone(self, x: jnp.ndarray) -> jnp.ndarray:
        for i, (feat, stride) in enumerate(zip(self.features, self.strides, strict=True)):
            if self.backbone == "mlp":
                layer = nn.Dense(feat, kernel_init=glorot, dtype=self.dtype, name=f"dense_{i}")
            else:
                layer = conv_layer(feat, self.kernel_size, stride, self.dtype, f"conv_{i}")
            x = ops.relu(layer(x))
        if self.backbone == "mlp":
            return nn.Dense(self.num_channels + 1, kernel_init=glorot, dtype=self.dtype,
                            name="output")(x)
        return conv_layer(self.num_channels + 1, self.output_kernel_size, 1, self.dtype, "output")(x)

    @nn.compact
    def __call__(self, slots: jnp.ndarray, poses: dict) -> dict[str, jnp.ndarray]:
        check_rank(slots, 3, "RelativeBroadcastDecoder slots", "[B, K, D]")
        if self.backbone not in BACKBONES:
            raise ValueError(
                f"Unknown decoder backbone={self.backbone!r}; choose one of {list(BACKBONES)}."
            )
        if len(self.strides) != len(self.features):
            raise ValueError(
                f"decoder strides {tuple(self.strides)} and features {tuple(self.features)} "
                "differ in length."
            )
        if self.backbone == "mlp" and any(s != 1 for s in self.strides):
            raise ValueError(f"The mlp decoder needs strides of 1, got {tuple(self.strides)}.")
        b, k, d = slots.shape
        h, w = self.broadcast_size
        grid = build_linear_grid(h, w).reshape(h * w, 2)
        rel = relative_grid(grid, {key: p.astype(jnp.float32) for key, p in poses.items()},
                            self.scales_factor)  # [B, K, h*w, 2]
        emb = nn.Dense(d, kernel_init=glorot, dtype=self.dtype, name="pos_embed")(rel)
        x = slots[:, :, None, :].astype(self.dtype or slots.dtype) + emb
        x = self._backbone(x.reshape(b * k, h, w, d))
        return alpha_composite(x.reshape(b, k, *x.shape[1:]))
