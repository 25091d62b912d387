"""The ReLU and the bias add, in the forms XLA:CPU handles better (:mod:`.platform` picks them).
Both give exactly the plain values; the bias gradient differs only by float rounding.
``experiments/benchmarks.md`` has the timings."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from slot_jax.ops.platform import by_platform


def _relu_select(x: jnp.ndarray) -> jnp.ndarray:
    return jnp.where(x <= 0, 0, x)


def relu(x: jnp.ndarray) -> jnp.ndarray:
    """``jax.nn.relu(x)``: the same values for every input (NaN stays NaN) and the same gradient
    (0 at 0).

    On CPU it is ``where(x <= 0, 0, x)``. XLA:CPU takes ``max(conv + bias, 0)`` for a one-input op
    and recomputes it inside every consumer it fuses, among them the layout transpose before the
    next convolution's kernel gradient, and a transpose that also computes is several times slower
    than a plain one. The select reads two arrays (the comparison and ``x``), so XLA computes it
    once and transposes the result. Other backends keep ``jax.nn.relu``, the form XLA
    pattern-matches into fused convolutions.
    """
    return by_platform(x, cpu=_relu_select, default=jax.nn.relu)


def _add_bias_rows(y: jnp.ndarray, bias: jnp.ndarray) -> jnp.ndarray:
    """``y [..., W, C] + bias [C]`` as ``[-1, W*C]`` rows plus the bias tiled ``W`` times."""
    w, c = y.shape[-2:]
    return (y.reshape(-1, w * c) + jnp.tile(bias, w)).reshape(y.shape)


def add_bias(y: jnp.ndarray, bias: jnp.ndarray) -> jnp.ndarray:
    """``y [..., W, C] + bias [C]``.

    On CPU the bias is added to ``y`` viewed as ``[-1, W*C]`` rows (the bias tiled ``W`` times):
    the same sums, but the bias gradient becomes a reduction over the rows of a 2-D array, where
    XLA:CPU makes a slow reduce-window of the plain ``[N, H, W, C] -> [C]`` reduction.
    """
    return by_platform(y, bias, cpu=_add_bias_rows, default=jnp.add)
