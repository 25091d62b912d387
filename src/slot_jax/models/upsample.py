"""Transposed convolution in sub-pixel form: exact, and fast on every backend.

``nn.ConvTranspose(stride=s, padding="SAME")`` is a correlation over the input dilated by ``s``.
Splitting its output by phase ``r`` (``o = s*m + r``) shows that each phase is an ordinary
stride-1 convolution of the *undilated* input with a subset of the kernel taps. We gather those taps
into one small kernel producing ``s*s*C_out`` channels and finish with depth-to-space.

On CPU, each phase is instead its own convolution over only the taps it has (for 5x5 stride 2,
phases of 3x3, 3x2, 2x3 and 2x2 taps, where the packed kernel is 3x3 for all four: 25 of its 36
taps are non-zero). That is 31% fewer multiply-adds: the CLEVR decoder's 64 -> 128 px layer (batch
56) took 777 ms for forward, input and kernel gradient instead of 1,001 ms, and the CLEVR train
step 6.7 s instead of 7.0 s (2-core Intel Xeon VM, jax 0.10.2). Other backends keep the one packed
convolution (chosen per platform when the program is lowered, with ``lax.platform_dependent``):
four smaller convolutions have not been measured on a GPU.

On XLA:CPU the backward pass of a strided ``ConvTranspose`` is pathologically slow (a 5x5 stride-2
layer, 64->128 px, 64 channels, batch 56 took 54 s forward+backward on 2 cores); this form avoids the
dilated input entirely. Parameters have the same names and shapes as ``nn.ConvTranspose``
(``kernel [kh, kw, C_in, C_out]``, ``bias [C_out]``) and the output is equal up to float rounding,
which ``tests/test_upsample.py`` checks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from slot_jax.models.layers import add_conv_bias, conv2d, conv_kernel


def _same_padding_start(kernel: int, stride: int) -> int:
    """``pad_a`` of ``lax.conv_transpose`` with ``padding="SAME"``."""
    if stride > kernel - 1:
        return kernel - 1
    return int(math.ceil((kernel + stride - 2) / 2))


def _tap_selection(kernel: int, stride: int) -> tuple[np.ndarray, int, int]:
    """Selection tensor ``M[r, j, t]``: tap ``t`` feeds phase ``r`` at input offset ``d_lo + j``.

    Returns ``(M, d_lo, d_hi)`` where offsets run over ``[d_lo, d_hi]``.
    """
    pad_a = _same_padding_start(kernel, stride)
    pairs = []  # (phase, offset, tap)
    for r in range(stride):
        for t in range(kernel):
            if (r + t - pad_a) % stride == 0:
                pairs.append((r, (r + t - pad_a) // stride, t))
    d_lo = min(p[1] for p in pairs)
    d_hi = max(p[1] for p in pairs)
    sel = np.zeros((stride, d_hi - d_lo + 1, kernel), np.float32)
    for r, d, t in pairs:
        sel[r, d - d_lo, t] = 1.0
    return sel, d_lo, d_hi


def subpixel_conv_transpose(
    x: jnp.ndarray, kernel: jnp.ndarray, strides: tuple[int, int], per_phase: bool | None = None
) -> jnp.ndarray:
    """Equals ``lax.conv_transpose(x, kernel, strides, "SAME")`` (NHWC, HWIO, no kernel flip).

    Args:
      x: ``[B, H, W, C_in]``.
      kernel: ``[kh, kw, C_in, C_out]``.
      strides: ``(sy, sx)``.
      per_phase: one convolution per phase (True) or one packed convolution (False); by default,
        per phase on CPU and packed elsewhere (module docstring).

    Returns:
      ``[B, H*sy, W*sx, C_out]``.
    """
    (sy, sx), (kh, kw) = strides, kernel.shape[:2]
    sel_y, ylo, yhi = _tap_selection(kh, sy)
    sel_x, xlo, xhi = _tap_selection(kw, sx)
    # W'[jy, jx, cin, ry, rx, cout] = sum_t My[ry, jy, ty] Mx[rx, jx, tx] W[ty, tx, cin, cout]
    packed = jnp.einsum(
        "ajy,bkx,yxio->jkiabo", sel_y.astype(kernel.dtype), sel_x.astype(kernel.dtype), kernel
    )
    spans = (_phase_spans(sel_y), _phase_spans(sel_x))
    phased = lambda x, w: _per_phase(x, w, spans, (ylo, xlo))  # noqa: E731
    whole = lambda x, w: _packed(x, w, (ylo, yhi), (xlo, xhi))  # noqa: E731
    if per_phase is None:
        return jax.lax.platform_dependent(x, packed, cpu=phased, default=whole)
    return (phased if per_phase else whole)(x, packed)


def _packed(x: jnp.ndarray, packed: jnp.ndarray, ys: tuple[int, int],
            xs: tuple[int, int]) -> jnp.ndarray:
    """One convolution to ``sy*sx*C_out`` channels with the whole packed kernel
    ``[Jy, Jx, C_in, sy, sx, C_out]`` (offsets ``ys``, ``xs``), then depth-to-space."""
    jy, jx, cin, sy, sx, cout = packed.shape
    padding = ((-ys[0], ys[1]), (-xs[0], xs[1]))
    y = conv2d(x, packed.reshape(jy, jx, cin, sy * sx * cout), padding=padding)
    b, h, w, _ = y.shape
    y = y.reshape(b, h, w, sy, sx, cout).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(b, h * sy, w * sx, cout)


def _per_phase(x: jnp.ndarray, packed: jnp.ndarray, spans: tuple[list, list],
               lows: tuple[int, int]) -> jnp.ndarray:
    """One convolution per phase ``(ry, rx)`` over the offsets it has taps at (``spans``, from
    :func:`_phase_spans`; ``lows`` are the first offsets), then the phases interleaved."""
    (ylo, xlo), cout = lows, packed.shape[-1]
    rows = []
    for ry, (y0, y1) in enumerate(spans[0]):
        phases = []
        for rx, (x0, x1) in enumerate(spans[1]):
            if y0 > y1 or x0 > x1:  # a phase no tap reaches (stride > kernel)
                phases.append(jnp.zeros((*x.shape[:3], cout), x.dtype))
                continue
            padding = ((-(ylo + y0), ylo + y1), (-(xlo + x0), xlo + x1))
            phases.append(conv2d(x, packed[y0:y1 + 1, x0:x1 + 1, :, ry, rx], padding=padding))
        rows.append(jnp.stack(phases, axis=3))  # [B, H, W, sx, C_out]
    y = jnp.stack(rows, axis=2)  # [B, H, sy, W, sx, C_out]
    b, h, sy, w, sx = y.shape[:5]
    return y.reshape(b, h * sy, w * sx, cout)


def _phase_spans(sel: np.ndarray) -> list[tuple[int, int]]:
    """For each phase ``r`` of ``sel[r, j, t]``, the first and last offset index ``j`` with a tap
    (``(0, -1)`` where it has none)."""
    spans = []
    for r in range(sel.shape[0]):
        used = np.flatnonzero(sel[r].sum(axis=-1))
        spans.append((int(used[0]), int(used[-1])) if used.size else (0, -1))
    return spans


class ConvTransposeSubpixel(nn.Module):
    """Drop-in for ``nn.ConvTranspose(features, kernel_size, strides, padding="SAME")``.

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
        y = subpixel_conv_transpose(x.astype(dtype), kernel.astype(dtype), tuple(self.strides))
        return add_conv_bias(self, y)
