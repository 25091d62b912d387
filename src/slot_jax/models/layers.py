"""Small shared building blocks: the Keras-default initialiser, the MLP, the ReLU and the
convolution layer of the encoders and decoders, and the parameters of a convolution layer.

On XLA:CPU, :func:`relu`, :func:`add_conv_bias` and :class:`Conv`'s few-output layers take forms
that the compiler handles better than the plain ``max(x, 0)``, ``x + bias`` and convolution; every
other backend gets the plain forms (chosen per platform when the program is lowered, with
``lax.platform_dependent``). The ReLU and the bias give the same values; the few-output
convolution and the bias gradient differ only by float rounding (``tests/test_layers.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
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


def _relu_select(x: jnp.ndarray) -> jnp.ndarray:
    return jnp.where(x <= 0, 0, x)


def relu(x: jnp.ndarray) -> jnp.ndarray:
    """``nn.relu(x)``: the same values for every input (NaN stays NaN) and the same gradient (0 at 0).

    On CPU it is ``where(x <= 0, 0, x)``. XLA:CPU takes ``max(conv + bias, 0)`` for a one-input
    op and recomputes it inside every consumer it fuses, among them the layout transpose before the
    next convolution's kernel gradient; a transpose that also computes runs about 4x slower than a
    plain one (``[56, 128, 128, 64]``, the CLEVR decoder: 480 ms against 110 ms, 2 cores). The
    select reads two arrays (the comparison and ``x``), so XLA computes it once and transposes the
    result. Other backends keep ``nn.relu``, the form XLA pattern-matches into fused convolutions.
    """
    return jax.lax.platform_dependent(x, cpu=_relu_select, default=nn.relu)


def conv_kernel(layer: nn.Module, in_features: int) -> jnp.ndarray:
    """The ``kernel`` parameter of a convolution layer with ``nn.Conv``'s fields (``features``,
    ``kernel_size``, ``param_dtype``): ``[kh, kw, in_features, features]``, glorot."""
    kh, kw = layer.kernel_size
    return layer.param("kernel", glorot, (kh, kw, in_features, layer.features), layer.param_dtype)


def _add_bias_rows(y: jnp.ndarray, bias: jnp.ndarray) -> jnp.ndarray:
    """``y [..., W, C] + bias [C]`` as ``[-1, W*C]`` rows plus the bias tiled ``W`` times."""
    w, c = y.shape[-2:]
    return (y.reshape(-1, w * c) + jnp.tile(bias, w)).reshape(y.shape)


def add_conv_bias(layer: nn.Module, y: jnp.ndarray) -> jnp.ndarray:
    """``y [N, H, W, C]`` plus the layer's ``bias [features]`` parameter (zeros) in ``y``'s dtype,
    or ``y`` itself where ``layer.use_bias`` is off.

    On CPU the bias is added to ``y`` viewed as ``[N*H, W*C]`` rows (the bias tiled ``W`` times):
    the same sums, but the bias gradient becomes a reduction over the rows of a 2-D array. Of the
    plain form's ``[N, H, W, C] -> [C]`` reduction, XLA:CPU makes a reduce-window that took about
    400 ms for ``[56, 128, 128, 64]`` in the CLEVR step (2 cores); the row form, about 50 ms.
    """
    if not layer.use_bias:
        return y
    bias = layer.param("bias", nn.initializers.zeros, (layer.features,), layer.param_dtype)
    bias = bias.astype(y.dtype)
    return jax.lax.platform_dependent(y, bias, cpu=_add_bias_rows, default=jnp.add)


class ConvParams(nn.Module):
    """``nn.Conv``'s fields and parameters (:func:`conv_kernel`, :func:`add_conv_bias`) for a
    convolution layer that computes its own way; ``dtype`` is the computation's."""

    features: int
    kernel_size: Sequence[int]
    use_bias: bool = True
    dtype: Any = None
    param_dtype: Any = jnp.float32


def conv2d(x: jnp.ndarray, kernel: jnp.ndarray, strides: Sequence[int] = (1, 1),
           padding: str | Sequence[tuple[int, int]] = "SAME") -> jnp.ndarray:
    """``lax.conv_general_dilated`` of ``x [N, H, W, C]`` with ``kernel [kh, kw, C, F]`` (NHWC,
    HWIO): ``[N, H', W', F]``."""
    return jax.lax.conv_general_dilated(x, kernel, tuple(strides), padding,
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _conv_by_taps(x: jnp.ndarray, kernel: jnp.ndarray) -> jnp.ndarray:
    """The stride-1 ``SAME`` convolution of ``x [N, H, W, C]`` with ``kernel [kh, kw, C, F]`` as
    one matmul to every tap's ``F`` outputs (``[N*H*W, C] x [C, kh*kw*F]``), then the sum of each
    tap's plane, shifted into place."""
    kh, kw, c, f = kernel.shape
    n, h, w, _ = x.shape
    taps = x.reshape(-1, c) @ kernel.transpose(2, 0, 1, 3).reshape(c, kh * kw * f)
    top, left = (kh - 1) // 2, (kw - 1) // 2  # SAME: out[i] = sum_a x[i + a - top] kernel[a]
    taps = jnp.pad(taps.reshape(n, h, w, kh, kw, f),
                   ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left), (0, 0), (0, 0), (0, 0)))
    return sum(taps[:, a:a + h, b:b + w, a, b] for a in range(kh) for b in range(kw))


class Conv(ConvParams):
    """``nn.Conv(features, kernel_size, strides, padding="SAME")`` on ``[N, H, W, C]`` inputs,
    with :func:`add_conv_bias`'s bias: the same parameters (names, shapes, initialisers), the same
    dtype promotion and the same outputs. Output ``[N, ceil(H / sy), ceil(W / sx), features]``.

    On CPU, a stride-1 layer with ``kh*kw*features <= C`` (few outputs: the CLEVR decoder's 3x3
    64 -> 4 output layer) is one matmul to every tap's outputs and a sum of shifted planes
    (:func:`_conv_by_taps`). Its gradients are then matmuls too, where XLA:CPU's convolution
    kernel gradient transposes the whole input first: the CLEVR output layer's forward and
    gradients took 229 ms instead of 314 ms (2 cores). With more outputs the tap planes outgrow
    the input, and the convolution is faster (the sprites output layer, 32 -> 4: 74 against 72 ms).
    """

    strides: Sequence[int] = (1, 1)

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        check_rank(x, 4, "Conv input", "[N, H, W, C]")
        kernel = conv_kernel(self, x.shape[-1])
        x, kernel = nn.dtypes.promote_dtype(x, kernel, dtype=self.dtype)
        strides = tuple(self.strides)
        kh, kw, c, f = kernel.shape
        if strides == (1, 1) and kh * kw * f <= c:
            y = jax.lax.platform_dependent(x, kernel, cpu=_conv_by_taps,
                                           default=conv2d)
        else:
            y = conv2d(x, kernel, strides)
        return add_conv_bias(self, y)


def check_rank(x: jnp.ndarray, rank: int, what: str, layout: str) -> None:
    """Raises a ValueError naming ``what`` if ``x`` does not have ``rank`` dimensions."""
    if x.ndim != rank:
        raise ValueError(f"{what} must have shape {layout} ({rank} dims), got shape {tuple(x.shape)}.")
