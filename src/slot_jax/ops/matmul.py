"""Matmuls over the last axis, in forms whose gradients are 2-D matmuls: XLA:CPU makes slow
transposes or reduce-windows of the contractions over many leading axes that the plain ``x @ w``
has in its gradients. The same values on every backend (``experiments/benchmarks.md``: timings)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def rows_matmul(x: jnp.ndarray, w: jnp.ndarray) -> jnp.ndarray:
    """``x [..., I] @ w [I, O]`` as a 2-D matmul of the rows of ``x``.

    The same products; but ``w``'s gradient contracts one axis of rows, not ``x``'s leading axes,
    for which XLA:CPU first transposes the ``[..., O]`` output gradient.
    """
    return (x.reshape(-1, x.shape[-1]) @ w).reshape(*x.shape[:-1], w.shape[-1])


@jax.custom_vjp
def few_input_matmul(x: jnp.ndarray, w: jnp.ndarray) -> jnp.ndarray:
    """``x [..., C] @ w [C, O]`` for a few inputs ``C``: a sum of ``C`` broadcast products, which
    XLA fuses into the elementwise ops that use it (a matmul's ``[..., O]`` output would be written
    and read again); the gradients are :func:`rows_matmul`'s 2-D matmuls (as sums over ``x``'s
    leading axes, XLA:CPU makes slow reduce-windows of them)."""
    return sum(x[..., c, None] * w[c] for c in range(x.shape[-1]))


def _few_input_matmul_fwd(x, w):
    return few_input_matmul(x, w), (x, w)


def _few_input_matmul_bwd(residuals, grad):
    x, w = residuals
    return (rows_matmul(grad, w.T),
            rows_matmul(x.reshape(-1, x.shape[-1]).T, grad.reshape(-1, w.shape[-1])))


few_input_matmul.defvjp(_few_input_matmul_fwd, _few_input_matmul_bwd)
