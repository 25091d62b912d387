"""The sub-pixel transposed convolution equals nn.ConvTranspose on the same weights."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from slot_jax.models.upsample import ConvTransposeSubpixel


@pytest.mark.parametrize(
    "kernel,stride,size", [(5, 2, 4), (3, 2, 5), (5, 1, 4), (4, 2, 3), (5, 3, 3), (2, 2, 4)]
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
