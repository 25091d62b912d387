"""The CNN encoder with soft position embedding, flatten, LayerNorm and MLP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from slot_jax import ops
from slot_jax.models.layers import MLP, Conv, check_rank
from slot_jax.models.position import SoftPositionEmbed
from slot_jax.models.slot_attention import LAYERNORM_EPSILON


class CNNEncoder(nn.Module):
    """``Conv(ReLU)^n -> SoftPositionEmbed -> flatten -> LayerNorm -> MLP``, as in the paper.

    CLEVR: ``features=(64,)*4, strides=(1,1,1,1)``; sprites: ``features=(32,)*4``; set prediction:
    ``strides=(1,2,2,1)``. All convolutions are ``SAME``-padded, channels-last.

    Attributes:
      features: output channels of each conv.
      kernel_size: square kernel size of every conv (paper: 5).
      strides: stride of each conv; defaults to all 1.
      mlp_features: the post-LayerNorm MLP, ``Dense(h, ReLU) -> Dense(out)`` (paper: ``(64, 64)``).
      num_channels: channels the input image must have (checked).
      position_embedding: add the soft position embedding (the paper); Invariant Slot Attention
        turns it off, since it sees positions through relative grids only.
    """

    features: Sequence[int] = (64, 64, 64, 64)
    kernel_size: int = 5
    strides: Sequence[int] | None = None
    mlp_features: Sequence[int] = (64, 64)
    num_channels: int = 3
    position_embedding: bool = True
    dtype: Any = None

    @nn.compact
    def __call__(self, image: jnp.ndarray) -> jnp.ndarray:
        """Encodes ``image [B, H, W, C]`` into features ``[B, H' * W', mlp_features[-1]]``."""
        check_rank(image, 4, "The image", "[B, H, W, C]")
        if image.shape[-1] != self.num_channels:
            raise ValueError(
                f"The image has {image.shape[-1]} channels but the model expects "
                f"{self.num_channels}; set config.model.num_channels={image.shape[-1]} "
                "or convert the images."
            )
        strides = self.strides or (1,) * len(self.features)
        if len(strides) != len(self.features):
            raise ValueError(
                f"encoder strides {tuple(strides)} and features {tuple(self.features)} differ in length."
            )
        x = image.astype(self.dtype or image.dtype)
        for i, (feat, stride) in enumerate(zip(self.features, strides, strict=True)):
            x = Conv(feat, (self.kernel_size, self.kernel_size), strides=(stride, stride),
                     dtype=self.dtype, name=f"conv_{i}")(x)
            x = ops.relu(x)
        if self.position_embedding:
            x = SoftPositionEmbed(dtype=self.dtype, name="pos_embed")(x)
        x = x.reshape(x.shape[0], -1, x.shape[-1])
        x = nn.LayerNorm(epsilon=LAYERNORM_EPSILON, dtype=jnp.float32, name="norm")(x)
        return MLP(tuple(self.mlp_features), dtype=self.dtype, name="mlp")(x)
