"""The CPU-speed forms of the convolutions equal autodiff of the plain ones: ``conv2d``'s rows-form
kernel gradient and ``Conv`` (conv_grad.py), ``BroadcastConv`` (broadcast_conv.py), and whole
decoders of the shipped configs against their plain form."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO

from slot_jax.config_base import load_config
from slot_jax.models import conv_grad, upsample
from slot_jax.models.broadcast_conv import BroadcastConv, valid_taps
from slot_jax.models.build import build_model


def _plain(x, kernel, padding):
    return jax.lax.conv_general_dilated(x, kernel, (1, 1), padding,
                                        dimension_numbers=conv_grad.DIMENSIONS)


def _close(a, b, tol=1e-5, per_leaf=True):
    """Each leaf of ``a`` within ``tol`` x the largest magnitude of its leaf in ``b`` (or, with
    ``per_leaf=False``, of all of ``b``: for sums with cancellation, such as a bias gradient)."""
    leaves = jax.tree.leaves(b)
    overall = max(float(jnp.max(jnp.abs(v))) for v in leaves)
    for u, v in zip(jax.tree.leaves(a), leaves, strict=True):
        scale = (float(jnp.max(jnp.abs(v))) if per_leaf else overall) or 1.0
        assert float(jnp.max(jnp.abs(u - v))) <= tol * scale, (u.shape, scale)


# (x shape, kernel shape, padding): the sub-pixel forms of 5x5/3x3/4x4 stride 2, and others
CONVS = [
    ((2, 4, 4, 6), (3, 3, 6, 16), ((1, 1), (1, 1))),
    ((2, 5, 3, 4), (2, 2, 4, 12), ((0, 1), (0, 1))),
    ((1, 6, 7, 3), (3, 3, 3, 5), ((0, 2), (-1, 1))),
    ((3, 5, 5, 2), (5, 5, 2, 4), ((2, 2), (2, 2))),
]


@pytest.mark.parametrize("x_shape, k_shape, padding", CONVS)
@pytest.mark.parametrize("images", [conv_grad.ROWS_IMAGES, 1])  # 1: one image per chunk
def test_conv2d_gradients_equal_autodiff(x_shape, k_shape, padding, images, monkeypatch,
                                         rows_everywhere):
    monkeypatch.setattr(conv_grad, "ROWS_IMAGES", images)
    x = jax.random.normal(jax.random.key(0), x_shape)
    k = jax.random.normal(jax.random.key(1), k_shape)
    y = _plain(x, k, padding)
    g = jax.random.normal(jax.random.key(2), y.shape)
    np.testing.assert_allclose(conv_grad.conv2d(x, k, padding), y, rtol=1e-6, atol=1e-6)
    ours = jax.jit(jax.grad(lambda x, k: jnp.vdot(conv_grad.conv2d(x, k, padding), g), (0, 1)))
    ref = jax.grad(lambda x, k: jnp.vdot(_plain(x, k, padding), g), (0, 1))
    _close(ours(x, k), ref(x, k))
    # and the rows form itself, not XLA's gradient, is what runs here on CPU
    dk = conv_grad.rows_kernel_grad(x, g, k_shape, padding)
    _close(dk, ref(x, k)[1])


def test_the_rows_form_is_taken_where_it_measured_faster():
    assert conv_grad.uses_rows_form((56, 128, 128, 64), (56, 128, 128, 64))  # CLEVR conv_4
    assert not conv_grad.uses_rows_form((8, 128, 128, 64), (8, 128, 128, 64))  # CLEVR encoder
    assert not conv_grad.uses_rows_form((56, 128, 128, 64), (56, 128, 128, 4))  # CLEVR output
    assert not conv_grad.uses_rows_form((128, 16, 16, 16), (128, 16, 16, 16))  # learning test


@pytest.mark.parametrize("kernel, dtype", [(3, None), (5, None), (4, None), (3, jnp.bfloat16)])
def test_conv_is_nn_conv_same(kernel, dtype, rows_everywhere):
    x = jax.random.normal(jax.random.key(0), (2, 6, 5, 3))
    ref = nn.Conv(4, (kernel, kernel), padding="SAME", dtype=dtype)
    ours = conv_grad.Conv(4, (kernel, kernel), dtype=dtype)
    params = jax.tree.map(lambda p: p + 0.1, ours.init(jax.random.key(1), x))  # a non-zero bias
    assert jax.tree.structure(params) == jax.tree.structure(ref.init(jax.random.key(1), x))
    y = ours.apply(params, x)
    assert y.dtype == ref.apply(params, x).dtype
    tol = 1e-5 if dtype is None else 2e-2
    np.testing.assert_allclose(y.astype(jnp.float32), ref.apply(params, x).astype(jnp.float32),
                               rtol=tol, atol=tol)
    loss = lambda m: lambda p, x: jnp.sum(jnp.sin(m.apply(p, x).astype(jnp.float32)))  # noqa: E731
    _close(jax.grad(loss(ours), (0, 1))(params, x), jax.grad(loss(ref), (0, 1))(params, x), tol)


def test_conv2d_under_vmap_and_second_use():
    x = jax.random.normal(jax.random.key(0), (3, 1, 4, 4, 2))
    k = jax.random.normal(jax.random.key(1), (3, 3, 2, 3))
    pad = ((1, 1), (1, 1))
    f = jax.vmap(lambda x: conv_grad.conv2d(x, k, pad))
    np.testing.assert_allclose(f(x), jax.vmap(lambda x: _plain(x, k, pad))(x), rtol=1e-6)
    _close(jax.grad(lambda k: jnp.sum(jax.vmap(lambda x: conv_grad.conv2d(x, k, pad))(x) ** 2))(k),
           jax.grad(lambda k: jnp.sum(jax.vmap(lambda x: _plain(x, k, pad))(x) ** 2))(k))


def test_valid_taps_counts_the_taps_inside():
    mask = valid_taps(4, 5, 3, 3)
    assert mask.shape == (4, 5, 9)
    assert mask[0, 0].sum() == 4 and mask[1, 1].sum() == 9 and mask[0, 2].sum() == 6
    assert mask[3, 4].reshape(3, 3)[2].sum() == 0  # last row: no tap below the image


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
    _close(g, g_ref, 1e-5)


def test_broadcast_conv_bad_input():
    with pytest.raises(ValueError, match="must match"):
        BroadcastConv(4, (3, 3)).init(jax.random.key(0), jnp.zeros((2, 5)), jnp.zeros((1, 4, 4, 6)))
    with pytest.raises(ValueError, match=r"\[N, D\]"):
        BroadcastConv(4, (3, 3)).init(jax.random.key(0), jnp.zeros((2, 1, 5)), jnp.zeros((4, 4, 5)))


@pytest.mark.parametrize("name", ["learning_test", "procedural_multi_dsprites",
                                  "procedural_tetrominoes", "procedural_clevr"])
def test_decoders_of_the_configs_equal_their_plain_form(name, monkeypatch, rows_everywhere):
    """Each shipped decoder, at its real image size and widths (2 slots, one image): the fast
    default (here with the rows form in every layer) and the plain form (the broadcast built, XLA's
    own kernel gradients) agree in the output and in every parameter's gradient."""
    cfg = load_config(str(REPO / "configs" / f"{name}.py"))
    decoder = build_model(cfg.model).decoder
    slots = jax.random.normal(jax.random.key(0), (1, 2, cfg.model.slot_size))
    params = decoder.init(jax.random.key(1), slots)
    params = jax.tree.map(lambda p: p + 0.01 if p.ndim == 1 else p, params)  # non-zero biases
    target = jax.random.uniform(jax.random.key(2), (1, *cfg.model.image_size, 3), minval=-1)

    def loss(module):
        return lambda p, s: jnp.mean((module.apply(p, s)["recon"] - target) ** 2)

    fast = jax.jit(jax.value_and_grad(loss(decoder), (0, 1)))(params, slots)
    monkeypatch.setattr(upsample, "conv2d", _plain)
    monkeypatch.setattr(conv_grad, "conv2d", _plain)
    plain = decoder.clone(factorized_first_conv=False)
    ref = jax.jit(jax.value_and_grad(loss(plain), (0, 1)))(params, slots)
    np.testing.assert_allclose(fast[0], ref[0], rtol=1e-5, atol=1e-6)
    _close(fast[1], ref[1], 1e-5, per_leaf=False)
