"""The sub-pixel transposed convolution equals nn.ConvTranspose on the same weights."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from slot_jax.models.upsample import ConvTransposeSubpixel, subpixel_conv_transpose


@pytest.mark.parametrize(
    "kernel,stride,size",
    [(5, 2, 4), (3, 2, 5), (5, 1, 4), (4, 2, 3), (5, 3, 3), (2, 2, 4), (1, 2, 3), (2, 3, 3)],
)
def test_matches_conv_transpose(kernel, stride, size):
    x = jax.random.normal(jax.random.key(0), (2, size, size + 1, 3))
    ref = nn.ConvTranspose(4, (kernel, kernel), strides=(stride, stride), padding="SAME")
    ours = ConvTransposeSubpixel(4, (kernel, kernel), strides=(stride, stride))
    params = ref.init(jax.random.key(1), x)
    params = jax.tree.map(lambda p: p + 0.1, params)  # non-zero bias too
    y_ref = ref.apply(params, x)
    y = ours.apply(params, x)  # same parameter names and shapes
    assert y.shape == y_ref.shape == (2, size * stride, (size + 1) * stride, 4)
    np.testing.assert_allclose(y, y_ref, atol=1e-5, rtol=1e-5)

    def loss(m):
        return lambda p, x: jnp.sum(jnp.sin(m.apply(p, x)))

    g_ref = jax.grad(loss(ref), argnums=(0, 1))(params, x)
    g = jax.grad(loss(ours), argnums=(0, 1))(params, x)
    for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(g_ref), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


def _transposed(x, k, stride, per_phase=None):
    if per_phase is None:  # the reference
        return jax.lax.conv_transpose(x, k, (stride, stride), "SAME",
                                      dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return subpixel_conv_transpose(x, k, (stride, stride), per_phase=per_phase)


@pytest.mark.parametrize("per_phase", [True, False])
@pytest.mark.parametrize("kernel,stride", [(5, 2), (4, 2), (5, 3), (1, 2)])
def test_per_phase_and_packed_forms_agree(kernel, stride, per_phase):
    """The CPU's per-phase form and the packed form of other backends (both run here)."""
    x = jax.random.normal(jax.random.key(0), (2, 3, 4, 3))
    k = jax.random.normal(jax.random.key(1), (kernel, kernel, 3, 5))
    np.testing.assert_allclose(_transposed(x, k, stride, per_phase), _transposed(x, k, stride),
                               atol=1e-5, rtol=1e-5)

    def loss(form):
        return lambda x, k: jnp.sum(jnp.sin(_transposed(x, k, stride, form)))

    grads = jax.grad(loss(per_phase), (0, 1))(x, k)
    for a, b in zip(grads, jax.grad(loss(None), (0, 1))(x, k), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)
