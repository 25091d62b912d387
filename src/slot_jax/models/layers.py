"""Small shared building blocks: the Keras-default initialiser, the MLP, the convolution layer
of the encoders and decoders, the parameters of a convolution layer, and the shape check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from slot_jax import ops

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


def conv_kernel(layer: nn.Module, in_features: int) -> jnp.ndarray:
    """The ``kernel`` parameter of a convolution layer with ``nn.Conv``'s fields (``features``,
    ``kernel_size``, ``param_dtype``): ``[kh, kw, in_features, features]``, glorot."""
    kh, kw = layer.kernel_size
    return layer.param("kernel", glorot, (kh, kw, in_features, layer.features), layer.param_dtype)


def add_conv_bias(layer: nn.Module, y: jnp.ndarray) -> jnp.ndarray:
    """``y [N, H, W, C]`` plus the layer's ``bias [features]`` parameter (zeros) in ``y``'s dtype,
    or ``y`` itself where ``layer.use_bias`` is off."""
    if not layer.use_bias:
        return y
    bias = layer.param("bias", nn.initializers.zeros, (layer.features,), layer.param_dtype)
    return ops.add_bias(y, bias.astype(y.dtype))


class ConvParams(nn.Module):
    """``nn.Conv``'s fields and parameters (:func:`conv_kernel`, :func:`add_conv_bias`) for a
    convolution layer that computes its own way; ``dtype`` is the computation's."""

    features: int
    kernel_size: Sequence[int]
    use_bias: bool = True
    dtype: Any = None
    param_dtype: Any = jnp.float32


class Conv(ConvParams):
    """``nn.Conv(features, kernel_size, strides, padding="SAME")`` on ``[N, H, W, C]`` inputs,
    computed by :func:`slot_jax.ops.conv` and :func:`slot_jax.ops.add_bias`: the same parameters
    (names, shapes, initialisers), the same dtype promotion and the same outputs. Output
    ``[N, ceil(H / sy), ceil(W / sx), features]``."""

    strides: Sequence[int] = (1, 1)

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        check_rank(x, 4, "Conv input", "[N, H, W, C]")
        kernel = conv_kernel(self, x.shape[-1])
        x, kernel = nn.dtypes.promote_dtype(x, kernel, dtype=self.dtype)
        return add_conv_bias(self, ops.conv(x, kernel, tuple(self.strides)))


def check_rank(x: jnp.ndarray, rank: int, what: str, layout: str) -> None:
    """Raises a ValueError naming ``what`` if ``x`` does not have ``rank`` dimensions."""
    if x.ndim != rank:
        raise ValueError(f"{what} must have shape {layout} ({rank} dims), got shape {tuple(x.shape)}.")
