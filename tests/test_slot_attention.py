"""SlotAttention: the paper's invariances, implicit gradients and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from slot_jax import SlotAttention

B, N, D_IN, K, D = 2, 20, 12, 4, 16
X = jax.random.normal(jax.random.key(0), (B, N, D_IN))
S = jax.random.normal(jax.random.key(1), (B, K, D))


def make(**kw):
    sa = SlotAttention(mlp_hidden_size=32, **kw)
    return sa, sa.init(jax.random.key(2), X, S)


SA, PARAMS = make()
APPLY = jax.jit(SA.apply)


def test_shapes_and_attention_sums_to_one_over_slots():
    slots, attn = APPLY(PARAMS, X, S)
    assert slots.shape == (B, K, D) and attn.shape == (B, K, N)
    np.testing.assert_allclose(attn.sum(axis=1), 1.0, atol=1e-5)
    assert float(attn.std()) > 1e-3  # not uniform


def test_multi_head():
    sa, p = make(num_heads=4)
    slots, attn = sa.apply(p, X, S)
    assert slots.shape == (B, K, D)
    np.testing.assert_allclose(attn.sum(axis=1), 1.0, atol=1e-5)
    single, _ = APPLY(PARAMS, X, S)
    assert not np.allclose(slots, single, atol=1e-3)


def test_slot_permutation_equivariance():
    perm = jnp.array([2, 0, 3, 1])
    slots, attn = APPLY(PARAMS, X, S)
    slots_p, attn_p = APPLY(PARAMS, X, S[:, perm])
    np.testing.assert_allclose(slots_p, slots[:, perm], atol=1e-5)
    np.testing.assert_allclose(attn_p, attn[:, perm], atol=1e-5)


def test_input_permutation_invariance():
    perm = jax.random.permutation(jax.random.key(5), N)
    slots, attn = APPLY(PARAMS, X, S)
    slots_p, attn_p = APPLY(PARAMS, X[:, perm], S)
    np.testing.assert_allclose(slots_p, slots, atol=1e-5)
    np.testing.assert_allclose(attn_p, attn[:, :, perm], atol=1e-5)


def _residual_bytes(sa, params, x, s):
    _, vjp = jax.vjp(lambda p: sa.apply(p, x, s)[0], params)
    return sum(leaf.nbytes for leaf in jax.tree.leaves(vjp))


def test_implicit_grad_same_forward_different_grads_constant_memory():
    sa_imp = SlotAttention(mlp_hidden_size=32, implicit_grad=True)
    np.testing.assert_allclose(sa_imp.apply(PARAMS, X, S)[0], APPLY(PARAMS, X, S)[0], atol=1e-6)

    def grads(sa):
        return jax.grad(lambda p: jnp.sum(sa.apply(p, X, S)[0] ** 2))(PARAMS)

    g, g_imp = grads(SA), grads(sa_imp)
    diff = jax.tree.map(lambda a, b: float(jnp.abs(a - b).max()), g, g_imp)
    assert max(jax.tree.leaves(diff)) > 1e-4
    # The backward pass keeps residuals of the last iteration only: their total size does not
    # grow with the number of iterations, while plain backprop stores every iteration.
    sizes = {
        (imp, it): _residual_bytes(
            SlotAttention(num_iterations=it, mlp_hidden_size=32, implicit_grad=imp), PARAMS, X, S
        )
        for imp in (False, True)
        for it in (2, 5)
    }
    assert sizes[(True, 2)] == sizes[(True, 5)]
    assert sizes[(False, 5)] > sizes[(False, 2)] > sizes[(True, 2)]


def test_jit_vmap_grad():
    # vmap over an extra leading axis of examples.
    xs, ss = jnp.stack([X, X * 2]), jnp.stack([S, S])
    out = jax.jit(jax.vmap(lambda x, s: SA.apply(PARAMS, x, s)[0]))(xs, ss)
    np.testing.assert_allclose(out[0], APPLY(PARAMS, X, S)[0], atol=1e-5)
    g = jax.grad(lambda x: jnp.sum(SA.apply(PARAMS, x, S)[0]))(X)
    assert g.shape == X.shape and float(jnp.abs(g).sum()) > 0


@pytest.mark.parametrize(
    "x,s,match",
    [
        (X[0], S, r"inputs must have shape \[B, N, D_in\]"),
        (X, S[0], r"slots must have shape \[B, K, D\]"),
        (X, S[:1], "batch"),
    ],
)
def test_bad_input_errors(x, s, match):
    with pytest.raises(ValueError, match=match):
        SA.apply(PARAMS, x, s)


def test_heads_must_divide_slot_size():
    with pytest.raises(ValueError, match="num_heads=3 must divide"):
        SlotAttention(num_heads=3).init(jax.random.key(0), X, S)
