"""SAVi's predictor: one transformer block over the slots, from one frame's slots to the next's."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from slot_jax.models.layers import MLP, check_rank, glorot


class TransformerBlock(nn.Module):
    """Multi-head self-attention over the slots, then an MLP, each with a residual and a LayerNorm.

    Post-LayerNorm, as SAVi's ``TransformerBlock`` (``pre_norm=False``, the setting of every SAVi
    config)::

        x = LayerNorm(slots + SelfAttention(slots))
        out = LayerNorm(x + MLP(x))

    The attention is Flax's ``MultiHeadDotProductAttention`` (softmax over the other slots, logits
    scaled by ``head_dim^-0.5``, biased projections, output projected back to the slot size); the
    MLP is ``Dense(mlp_size, ReLU) -> Dense(D)``. Deliberate differences from SAVi's block, none in
    the computation: glorot-uniform kernels (this package's default) where SAVi keeps Flax's
    lecun-normal. LayerNorm epsilon is Flax's ``1e-6``, as in SAVi.

    Input and output ``slots [B, K, D]``.

    Attributes:
      num_heads: attention heads (SAVi-S: 4); must divide ``qkv_size``.
      qkv_size: width of the queries, keys and values; defaults to the slot size (SAVi-S: 128).
      mlp_size: hidden width of the MLP (SAVi-S: 256).
      dtype: computation dtype; the LayerNorms stay float32.
    """

    num_heads: int = 4
    qkv_size: int | None = None
    mlp_size: int = 256
    dtype: Any = None

    @nn.compact
    def __call__(self, slots: jnp.ndarray) -> jnp.ndarray:
        check_rank(slots, 3, "TransformerBlock slots", "[B, K, D]")
        dim = slots.shape[-1]
        qkv = self.qkv_size or dim
        if qkv % self.num_heads:
            raise ValueError(f"TransformerBlock: num_heads={self.num_heads} must divide qkv_size={qkv}.")
        attention = nn.MultiHeadDotProductAttention(
            num_heads=self.num_heads, qkv_features=qkv, out_features=dim, kernel_init=glorot,
            dtype=self.dtype, name="attention",
        )
        x = slots + attention(slots).astype(slots.dtype)
        x = nn.LayerNorm(dtype=jnp.float32, name="norm_attention")(x)
        y = MLP((self.mlp_size, dim), dtype=self.dtype, name="mlp")(x)
        return nn.LayerNorm(dtype=jnp.float32, name="norm_mlp")(x + y.astype(x.dtype))
