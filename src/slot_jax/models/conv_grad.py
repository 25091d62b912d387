"""A stride-1 convolution whose kernel gradient is a patches x matmul product on CPU.

XLA:CPU computes the kernel gradient of a 3x3 convolution with many output channels on one thread,
at a fraction of its convolution speed: for the sub-pixel decoder's 3x3 64 -> 256 convolution at
64x64 px and batch 56, it took 2.46 s where the forward took 0.53 s (2-core CPU, jax 0.10.2). Written
as ``patches^T @ grad_out``, the same gradient is one large matmul, which XLA:CPU runs fast and on
every core: that convolution's gradients took 1.17 s instead of 2.46 s
(``experiments/benchmarks.md``).

:func:`conv2d` is ``lax.conv_general_dilated`` (NHWC, HWIO, stride 1) with a custom VJP: the
input gradient is XLA's own, the kernel gradient is the patches form on CPU and XLA's own on every
other backend (chosen per platform when the program is lowered, with ``lax.platform_dependent``).
Both equal autodiff's to float rounding (``tests/test_conv_grad.py``). On CPU the patches are built
in chunks of the batch, so they never take more than about :data:`PATCH_BYTES` of memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp

DIMENSIONS = ("NHWC", "HWIO", "NHWC")
PATCH_BYTES = 256 * 2**20  # the most memory one chunk's patches take


def _conv(x: jnp.ndarray, kernel: jnp.ndarray, padding: tuple) -> jnp.ndarray:
    return jax.lax.conv_general_dilated(
        x, kernel, window_strides=(1, 1), padding=padding, dimension_numbers=DIMENSIONS
    )


def patches(x: jnp.ndarray, kh: int, kw: int, padding: tuple) -> jnp.ndarray:
    """``[B, H_out, W_out, kh*kw*C]``: the input window of every output pixel of a stride-1
    ``(kh, kw)`` convolution with ``padding ((top, bottom), (left, right))`` (negative values crop),
    ordered (tap row, tap column, channel) as an ``HWIO`` kernel reshaped to ``[kh*kw*C, O]``."""
    (top, bottom), (left, right) = padding
    x = jax.lax.pad(x, jnp.zeros((), x.dtype),
                    ((0, 0, 0), (top, bottom, 0), (left, right, 0), (0, 0, 0)))
    h, w = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    return jnp.concatenate(
        [x[:, a:a + h, b:b + w, :] for a in range(kh) for b in range(kw)], axis=-1
    )


def _chunks(batch: int, bytes_per_image: int) -> int:
    """The fewest chunks, dividing ``batch``, whose patches fit in :data:`PATCH_BYTES` each."""
    for n in range(1, batch + 1):
        if batch % n == 0 and (batch // n) * bytes_per_image <= PATCH_BYTES:
            return n
    return batch


def patches_kernel_grad(x: jnp.ndarray, g: jnp.ndarray, kernel_shape: Sequence[int],
                        padding: tuple) -> jnp.ndarray:
    """The kernel gradient ``[kh, kw, C, O]`` of :func:`conv2d` for output gradient ``g
    [B, H_out, W_out, O]``, as ``patches^T @ g`` summed over chunks of the batch (float32
    accumulation)."""
    kh, kw, c, o = kernel_shape
    b, h_out, w_out = g.shape[:3]
    n = _chunks(b, h_out * w_out * kh * kw * c * x.dtype.itemsize)

    def one(chunk):
        xs, gs = chunk
        p = patches(xs, kh, kw, padding).reshape(-1, kh * kw * c)
        return jnp.einsum("pk,po->ko", p, gs.reshape(-1, o), preferred_element_type=jnp.float32)

    if n == 1:
        total = one((x, g))
    else:
        split = lambda a: a.reshape(n, b // n, *a.shape[1:])  # noqa: E731
        total = jax.lax.map(one, (split(x), split(g))).sum(axis=0)
    return total.reshape(kh, kw, c, o)


@partial(jax.custom_vjp, nondiff_argnums=(2,))
def conv2d(x: jnp.ndarray, kernel: jnp.ndarray, padding: tuple) -> jnp.ndarray:
    """``lax.conv_general_dilated(x, kernel, (1, 1), padding)`` for ``x [B, H, W, C]`` and
    ``kernel [kh, kw, C, O]`` (NHWC, HWIO); ``padding`` is ``((top, bottom), (left, right))``."""
    return _conv(x, kernel, padding)


def _forward(x, kernel, padding):
    return _conv(x, kernel, padding), (x, kernel)


def _backward(padding, residuals, g):
    x, kernel = residuals
    _, input_vjp = jax.vjp(lambda x_: _conv(x_, kernel, padding), x)
    (dx,) = input_vjp(g)

    def on_cpu(x, g):
        return patches_kernel_grad(x, g, kernel.shape, padding).astype(kernel.dtype)

    def elsewhere(x, g):
        _, kernel_vjp = jax.vjp(lambda k: _conv(x, k, padding), kernel)
        return kernel_vjp(g)[0]

    dk = jax.lax.platform_dependent(x, g, cpu=on_cpu, default=elsewhere)
    return dx, dk


conv2d.defvjp(_forward, _backward)
