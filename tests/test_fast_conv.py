"""The decoders of the shipped configs in their fast form (the first convolution without the
broadcast, on CPU the sub-pixel layers per phase) equal their plain form, with autodiff's
gradients. Each op and layer alone: ``test_ops.py``, ``test_layers.py``."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO, assert_close_to_scale

from slot_jax import ops
from slot_jax.config_base import load_config
from slot_jax.models.build import build_model


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
    gradient by 9e-5 of the gradients' scale. The ReLU's own forms are tested in test_ops.py."""
    monkeypatch.setattr(ops, "relu", jax.nn.softplus)
    cfg = load_config(str(REPO / "configs" / f"{name}.py"))
    decoder = build_model(cfg.model).decoder
    slots = jax.random.normal(jax.random.key(0), (1, 2, cfg.model.slot_size))
    params = decoder.init(jax.random.key(1), slots)
    params = jax.tree.map(lambda p: p + 0.01 if p.ndim == 1 else p, params)  # non-zero biases
    target = jax.random.uniform(jax.random.key(2), (1, *cfg.model.image_size, 3), minval=-1)

    def loss(module):
        return lambda p, s: jnp.mean((module.apply(p, s)["recon"] - target) ** 2)

    fast = jax.jit(jax.value_and_grad(loss(decoder), (0, 1)))(params, slots)
    monkeypatch.setattr(ops, "conv_transpose",
                        functools.partial(ops.conv_transpose, per_phase=False))
    plain = decoder.clone(factorized_first_conv=False)
    ref = jax.jit(jax.value_and_grad(loss(plain), (0, 1)))(params, slots)
    np.testing.assert_allclose(fast[0], ref[0], rtol=1e-5, atol=1e-6)
    assert_close_to_scale(fast[1], ref[1], 1e-5, per_leaf=False)
