"""The layer modules equal Flax's own layers on the same parameters, in values and gradients:
``layers.Conv`` and ``nn.Conv``, ``ConvTransposeSubpixel`` and ``nn.ConvTranspose``,
``BroadcastConv`` and ``nn.Conv`` of the broadcast; the same parameter names, shapes and initial
values, so checkpoints and ported weights load unchanged. The ops they call are compared with the
plain operations in ``test_ops.py``."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_close_to_scale

from slot_jax.models import layers
from slot_jax.models.broadcast_conv import BroadcastConv
from slot_jax.models.upsample import ConvTransposeSubpixel


# (stride, size, input channels, features, dtype); 3x3 kernels. The fourth case has few outputs,
# so on CPU ops.conv computes it by taps.
@pytest.mark.parametrize("stride, size, channels, features, dtype", [
    (1, (6, 5), 3, 4, None), (2, (7, 6), 3, 4, None), (1, (5, 6), 3, 4, jnp.bfloat16),
    (1, (6, 5), 20, 2, None)])
def test_conv_equals_nn_conv(stride, size, channels, features, dtype):
    x = jax.random.normal(jax.random.key(0), (2, *size, channels))
    ref = nn.Conv(features, (3, 3), strides=stride, padding="SAME", kernel_init=layers.glorot,
                  dtype=dtype)
    ours = layers.Conv(features, (3, 3), strides=(stride, stride), dtype=dtype)
    params = ref.init(jax.random.key(1), x)
    init = ours.init(jax.random.key(1), x)  # the same names, shapes and initial values
    assert jax.tree.structure(init) == jax.tree.structure(params)
    for a, b in zip(jax.tree.leaves(init), jax.tree.leaves(params), strict=True):
        np.testing.assert_array_equal(a, b)
    params = jax.tree.map(lambda p: p + 0.1, params)  # a non-zero bias too
    y = ours.apply(params, x)
    assert y.dtype == ref.apply(params, x).dtype and y.shape == (2, -(-size[0] // stride),
                                                                 -(-size[1] // stride), features)
    tol = 1e-5 if dtype is None else 2e-2
    np.testing.assert_allclose(y.astype(jnp.float32), ref.apply(params, x).astype(jnp.float32),
                               rtol=tol, atol=tol)
    loss = lambda m: lambda p, v: jnp.sum(jnp.sin(m.apply(p, v).astype(jnp.float32)))  # noqa: E731
    grads = jax.grad(loss(ours), (0, 1))(params, x)
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(jax.grad(loss(ref), (0, 1))(params, x)),
                    strict=True):
        scale = float(jnp.max(jnp.abs(b.astype(jnp.float32))))
        assert float(jnp.max(jnp.abs(a.astype(jnp.float32) - b.astype(jnp.float32)))) <= tol * scale


def test_conv_bad_input():
    with pytest.raises(ValueError, match=r"\[N, H, W, C\]"):
        layers.Conv(4, (3, 3)).init(jax.random.key(0), jnp.zeros((5, 5, 3)))


@pytest.mark.parametrize(
    "kernel,stride,size",
    [(5, 2, 4), (3, 2, 5), (5, 1, 4), (4, 2, 3), (5, 3, 3), (2, 2, 4), (1, 2, 3), (2, 3, 3)],
)
def test_conv_transpose_subpixel_equals_nn_conv_transpose(kernel, stride, size):
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


@pytest.mark.parametrize("kernel, size", [(3, (5, 5)), (5, (6, 4)), (4, (5, 6)), (1, (3, 3))])
def test_broadcast_conv_equals_conv_of_the_broadcast(kernel, size):
    h, w = size
    vectors = jax.random.normal(jax.random.key(0), (3, 6))
    shared = jax.random.normal(jax.random.key(1), (1, h, w, 6))
    ref = nn.Conv(5, (kernel, kernel), padding="SAME")
    ours = BroadcastConv(5, (kernel, kernel))
    full = lambda v, s: v[:, None, None, :] + s  # noqa: E731
    params = ref.init(jax.random.key(2), full(vectors, shared))
    params = jax.tree.map(lambda p: p + 0.1, params)  # a non-zero bias too
    assert jax.tree.structure(ours.init(jax.random.key(2), vectors, shared)) == \
        jax.tree.structure(params)
    y = ours.apply(params, vectors, shared)
    np.testing.assert_allclose(y, ref.apply(params, full(vectors, shared)), rtol=1e-5, atol=1e-5)

    def loss(fn):
        return lambda p, v, s: jnp.sum(jnp.sin(fn(p, v, s)))

    g = jax.grad(loss(ours.apply), (0, 1, 2))(params, vectors, shared)
    g_ref = jax.grad(loss(lambda p, v, s: ref.apply(p, full(v, s))), (0, 1, 2))(
        params, vectors, shared)
    assert_close_to_scale(g, g_ref, 1e-5)


def test_broadcast_conv_bad_input():
    with pytest.raises(ValueError, match="must match"):
        BroadcastConv(4, (3, 3)).init(jax.random.key(0), jnp.zeros((2, 5)), jnp.zeros((1, 4, 4, 6)))
    with pytest.raises(ValueError, match=r"\[N, D\]"):
        BroadcastConv(4, (3, 3)).init(jax.random.key(0), jnp.zeros((2, 1, 5)), jnp.zeros((4, 4, 5)))
