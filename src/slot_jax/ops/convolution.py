"""The 2-D convolution (NHWC inputs, HWIO kernels), with a CPU form for layers with few outputs.
``experiments/benchmarks.md`` has the timings."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from slot_jax.ops.platform import by_platform

Padding = str | Sequence[tuple[int, int]]


def lax_conv(x: jnp.ndarray, kernel: jnp.ndarray, strides: Sequence[int] = (1, 1),
             padding: Padding = "SAME") -> jnp.ndarray:
    """``lax.conv_general_dilated`` of ``x [N, H, W, C]`` with ``kernel [kh, kw, C, F]`` (NHWC,
    HWIO): ``[N, H', W', F]``, on every backend."""
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


def conv(x: jnp.ndarray, kernel: jnp.ndarray, strides: Sequence[int] = (1, 1),
         padding: Padding = "SAME") -> jnp.ndarray:
    """The convolution of ``x [N, H, W, C]`` with ``kernel [kh, kw, C, F]``: :func:`lax_conv`'s
    values, to float rounding.

    On CPU, a stride-1 ``SAME`` convolution with ``kh*kw*F <= C`` (few outputs, such as a decoder's
    3x3 64 -> 4 output layer) is one matmul to every tap's outputs and a sum of shifted planes
    (:func:`_conv_by_taps`). Its gradients are then matmuls too, where XLA:CPU's convolution
    kernel gradient transposes the whole input first. With more outputs the tap planes outgrow the
    input, and the convolution is faster.
    """
    kh, kw, c, f = kernel.shape
    if tuple(strides) == (1, 1) and padding == "SAME" and kh * kw * f <= c:
        return by_platform(x, kernel, cpu=_conv_by_taps, default=lax_conv)
    return lax_conv(x, kernel, strides, padding)
