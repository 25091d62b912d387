"""The decoder's strided transposed convolution layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from slot_jax import ops
from slot_jax.models.layers import add_conv_bias, conv_kernel


class ConvTransposeSubpixel(nn.Module):
    """``nn.ConvTranspose(features, kernel_size, strides, padding="SAME")``, computed by
    :func:`slot_jax.ops.conv_transpose` (an exact sub-pixel form, without the dilated input). The
    same parameter names and shapes (``kernel [kh, kw, C_in, C_out]``, ``bias [C_out]``) and the
    same outputs to float rounding.

    Input ``[B, H, W, C_in]``, output ``[B, H*sy, W*sx, features]``.
    """

    features: int
    kernel_size: Sequence[int]
    strides: Sequence[int] = (1, 1)  # third, as nn.ConvTranspose's
    use_bias: bool = True
    dtype: Any = None
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        kernel = conv_kernel(self, x.shape[-1])
        dtype = self.dtype or x.dtype
        y = ops.conv_transpose(x.astype(dtype), kernel.astype(dtype), tuple(self.strides))
        return add_conv_bias(self, y)
