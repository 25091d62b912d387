"""The decoder's fast form of its first convolution equals the plain one, with autodiff's
gradients: ``BroadcastConv`` (broadcast_conv.py), and whole decoders of the shipped configs against
their plain form."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO

from slot_jax.config_base import load_config
from slot_jax.models import decoder as decoder_module
from slot_jax.models import upsample
from slot_jax.models.broadcast_conv import BroadcastConv, valid_taps
from slot_jax.models.build import build_model


def _close(a, b, tol=1e-5, per_leaf=True):
    """Each leaf of ``a`` within ``tol`` x the largest magnitude of its leaf in ``b`` (or, with
    ``per_leaf=False``, of all of ``b``: for sums with cancellation, such as a bias gradient)."""
    leaves = jax.tree.leaves(b)
    overall = max(float(jnp.max(jnp.abs(v))) for v in leaves)
    for u, v in zip(jax.tree.leaves(a), leaves, strict=True):
        scale = (float(jnp.max(jnp.abs(v))) if per_leaf else overall) or 1.0
        assert float(jnp.max(jnp.abs(u - v))) <= tol * scale, (u.shape, scale)


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
def test_decoders_of_the_configs_equal_their_plain_form(name, monkeypatch):
    """Each shipped decoder, at its real image size and widths (2 slots, one image): the fast
    default (on CPU, the sub-pixel layers per phase) and the plain form (the broadcast built, each
    sub-pixel layer one packed convolution) agree in the output and in every parameter's
    gradient.

    The ReLUs are swapped for a smooth activation in both forms: with hundreds of thousands of
    pre-activations, one can land within float rounding of 0, and the two forms put it on opposite
    sides (procedural_tetrominoes did, with jax 0.10.2 on CPU): that one pixel moved a bias
    gradient by 9e-5 of the gradients' scale. The ReLU's own forms are tested in test_layers.py."""
    monkeypatch.setattr(decoder_module, "relu", jax.nn.softplus)
    cfg = load_config(str(REPO / "configs" / f"{name}.py"))
    decoder = build_model(cfg.model).decoder
    slots = jax.random.normal(jax.random.key(0), (1, 2, cfg.model.slot_size))
    params = decoder.init(jax.random.key(1), slots)
    params = jax.tree.map(lambda p: p + 0.01 if p.ndim == 1 else p, params)  # non-zero biases
    target = jax.random.uniform(jax.random.key(2), (1, *cfg.model.image_size, 3), minval=-1)

    def loss(module):
        return lambda p, s: jnp.mean((module.apply(p, s)["recon"] - target) ** 2)

    fast = jax.jit(jax.value_and_grad(loss(decoder), (0, 1)))(params, slots)
    monkeypatch.setattr(upsample, "subpixel_conv_transpose",
                        functools.partial(upsample.subpixel_conv_transpose, per_phase=False))
    plain = decoder.clone(factorized_first_conv=False)
    ref = jax.jit(jax.value_and_grad(loss(plain), (0, 1)))(params, slots)
    np.testing.assert_allclose(fast[0], ref[0], rtol=1e-5, atol=1e-6)
    _close(fast[1], ref[1], 1e-5, per_leaf=False)
