"""The transposed convolution (``padding="SAME"``) in sub-pixel form: exact, and without the
dilated input.

``lax.conv_transpose(stride=s, padding="SAME")`` is a correlation over the input dilated by ``s``.
Splitting its output by phase ``r`` (``o = s*m + r``) shows that each phase is an ordinary stride-1
convolution of the *undilated* input with a subset of the kernel taps. We gather those taps into one
small kernel producing ``s*s*C_out`` channels and finish with depth-to-space. XLA:CPU's backward
pass of a strided transposed convolution over the dilated input is pathologically slow; this form
avoids it on every backend.

On CPU, each phase is instead its own convolution over only the taps it has (for 5x5 stride 2,
phases of 3x3, 3x2, 2x3 and 2x2 taps, where the packed kernel is 3x3 for all four: 25 of its 36
taps are non-zero), 31% fewer multiply-adds. Other backends keep the one packed convolution
(:mod:`.platform`): four smaller convolutions have not been measured on a GPU.
``experiments/benchmarks.md`` has the timings.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from slot_jax.ops.convolution import lax_conv
from slot_jax.ops.platform import by_platform


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


def conv_transpose(
    x: jnp.ndarray, kernel: jnp.ndarray, strides: tuple[int, int], per_phase: bool | None = None
) -> jnp.ndarray:
    """Equals ``lax.conv_transpose(x, kernel, strides, "SAME")`` (NHWC, HWIO, no kernel flip).

    Args:
      x: ``[B, H, W, C_in]``.
      kernel: ``[kh, kw, C_in, C_out]``.
      strides: ``(sy, sx)``.
      per_phase: one convolution per phase (True) or one packed convolution (False); by default,
        per phase on CPU and packed elsewhere (the module docstring).

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
        return by_platform(x, packed, cpu=phased, default=whole)
    return (phased if per_phase else whole)(x, packed)


def _packed(x: jnp.ndarray, packed: jnp.ndarray, ys: tuple[int, int],
            xs: tuple[int, int]) -> jnp.ndarray:
    """One convolution to ``sy*sx*C_out`` channels with the whole packed kernel
    ``[Jy, Jx, C_in, sy, sx, C_out]`` (offsets ``ys``, ``xs``), then depth-to-space."""
    jy, jx, cin, sy, sx, cout = packed.shape
    padding = ((-ys[0], ys[1]), (-xs[0], xs[1]))
    y = lax_conv(x, packed.reshape(jy, jx, cin, sy * sx * cout), padding=padding)
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
            phases.append(lax_conv(x, packed[y0:y1 + 1, x0:x1 + 1, :, ry, rx], padding=padding))
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
