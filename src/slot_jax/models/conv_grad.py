"""A stride-1 convolution whose kernel gradient is a batch of matmuls on CPU, and ``Conv``, the
``nn.Conv(padding="SAME")`` layer built on it.

XLA:CPU computes the kernel gradient of a convolution over many large images slowly: several times
the forward's time, partly on one thread. The form here is faster where the images are many and
wide. Kernel gradient alone, 2-core AMD EPYC VM, jax 0.10.2, both cores (the learning-test row: one
core), median of 3, 2026-12-06; chunks of 4 images:

=====================================  ===========  =========  =========
convolution                            batch, size  XLA's own  this form
=====================================  ===========  =========  =========
5x5 64->64 (CLEVR decoder ``conv_4``)  56, 128 px   3,112 ms   2,304 ms
3x3 64->256 (CLEVR sub-pixel layer)    56, 64 px    2,880 ms   553 ms
5x5 32->32 (sprites decoder)           96, 64 px    473 ms     330 ms
5x5 64->64 (CLEVR encoder)             8, 128 px    376 ms     439 ms
5x5 32->32 (sprites encoder)           16, 64 px    33 ms      73 ms
3x3 64->4 (CLEVR output)               56, 128 px   416 ms     608 ms
3x3 16->16 (learning-test decoder)     128, 16 px   2.6 ms     5.1 ms
=====================================  ===========  =========  =========

The earlier form, one matmul of all the ``kh*kw`` patches, took 670 ms on the sub-pixel layer and
2,692 ms on ``conv_4``. In the whole train step the gain is smaller than these rows suggest (XLA
runs its slow gradient beside other work): ``experiments/benchmarks.md``.

So :func:`conv2d` uses it on CPU where both channel counts are at least :data:`ROWS_MIN_CHANNELS`
and the gradient sums over at least :data:`ROWS_MIN_PIXELS` output pixels, and XLA's own gradient
everywhere else and on every other backend (chosen per platform when the program is lowered, with
``lax.platform_dependent``). The input gradient is always XLA's own.

The form (:func:`rows_kernel_grad`): pad the input and lay its ``kw`` column shifts side by side
along the channels, ``xw [B, H_out + kh - 1, W_out, kw*C]``. Kernel row ``a`` is then
``sum over images of xw[:, a:a + H_out]^T @ g``: one ``[kw*C, O]`` matmul per image, summed.
Per-image products matter: XLA:CPU runs one product that contracts a million rows slowly and a
batch of smaller ones fast. The batch goes through in chunks of up to :data:`ROWS_IMAGES` images
and :data:`ROWS_BYTES` of ``xw``. Both forms equal autodiff's to float rounding
(``tests/test_fast_conv.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp

from slot_jax.models.layers import ConvParams, add_conv_bias, conv_kernel

DIMENSIONS = ("NHWC", "HWIO", "NHWC")
ROWS_MIN_CHANNELS = 32  # the rows form needs both C and O at least this
ROWS_MIN_PIXELS = 200_000  # ... and at least this many output pixels (B * H_out * W_out)
ROWS_IMAGES = 4  # the most images in one chunk of the rows form
ROWS_BYTES = 128 * 2**20  # the most memory one chunk's xw takes


def _conv(x: jnp.ndarray, kernel: jnp.ndarray, padding: tuple) -> jnp.ndarray:
    return jax.lax.conv_general_dilated(
        x, kernel, window_strides=(1, 1), padding=padding, dimension_numbers=DIMENSIONS
    )


def _chunk_images(batch: int, bytes_per_image: int) -> int:
    """The most images, dividing ``batch``, at most :data:`ROWS_IMAGES`, whose ``xw`` fits in
    :data:`ROWS_BYTES` (at least one)."""
    for n in range(min(ROWS_IMAGES, batch), 0, -1):
        if batch % n == 0 and n * bytes_per_image <= ROWS_BYTES:
            return n
    return 1


def rows_kernel_grad(x: jnp.ndarray, g: jnp.ndarray, kernel_shape: Sequence[int],
                     padding: tuple) -> jnp.ndarray:
    """The kernel gradient ``[kh, kw, C, O]`` of :func:`conv2d` for input ``x [B, H, W, C]`` and
    output gradient ``g [B, H_out, W_out, O]``, in the rows form of the module docstring (float32
    accumulation)."""
    kh, kw, c, o = kernel_shape
    (top, bottom), (left, right) = padding
    b, h_out, w_out = g.shape[:3]

    def one(chunk):
        xs, gs = chunk
        xp = jax.lax.pad(xs, jnp.zeros((), xs.dtype),
                         ((0, 0, 0), (top, bottom, 0), (left, right, 0), (0, 0, 0)))
        xw = jnp.concatenate([xp[:, :, j:j + w_out, :] for j in range(kw)], axis=-1)
        xw = xw.reshape(xs.shape[0], -1, kw * c)  # [n, (H_out + kh - 1) * W_out, kw*C]
        gs = gs.reshape(gs.shape[0], h_out * w_out, o)
        rows = [
            jnp.einsum("npk,npo->nko", xw[:, a * w_out:(a + h_out) * w_out], gs,
                       preferred_element_type=jnp.float32).sum(axis=0)
            for a in range(kh)
        ]
        return jnp.stack(rows)  # [kh, kw*C, O]

    per_chunk = _chunk_images(b, (h_out + kh - 1) * w_out * kw * c * x.dtype.itemsize)
    if per_chunk == b:
        total = one((x, g))
    else:
        split = lambda a: a.reshape(b // per_chunk, per_chunk, *a.shape[1:])  # noqa: E731
        total = jax.lax.map(one, (split(x), split(g))).sum(axis=0)
    return total.reshape(kh, kw, c, o)


def uses_rows_form(x_shape: Sequence[int], g_shape: Sequence[int]) -> bool:
    """Whether :func:`conv2d` takes the rows form on CPU for these shapes (module docstring)."""
    pixels = g_shape[0] * g_shape[1] * g_shape[2]
    return min(x_shape[-1], g_shape[-1]) >= ROWS_MIN_CHANNELS and pixels >= ROWS_MIN_PIXELS


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

    def xla(x, g):
        _, kernel_vjp = jax.vjp(lambda k: _conv(x, k, padding), kernel)
        return kernel_vjp(g)[0]

    def on_cpu(x, g):
        return rows_kernel_grad(x, g, kernel.shape, padding).astype(kernel.dtype)

    if not uses_rows_form(x.shape, g.shape):
        return dx, xla(x, g)
    return dx, jax.lax.platform_dependent(x, g, cpu=on_cpu, default=xla)


conv2d.defvjp(_forward, _backward)


class Conv(ConvParams):
    """``nn.Conv(features, kernel_size, padding="SAME")`` (stride 1, NHWC) through :func:`conv2d`:
    the same parameters and outputs, with the faster kernel gradient on CPU. Input
    ``[B, H, W, C]``, output ``[B, H, W, features]``."""

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        kernel = conv_kernel(self, x.shape[-1])
        dtype = self.dtype or jnp.result_type(x, kernel)
        padding = tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in self.kernel_size)  # SAME
        return add_conv_bias(self, conv2d(x.astype(dtype), kernel.astype(dtype), padding))
