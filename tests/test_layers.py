"""``models/layers.py``: the ReLU and the bias add of the convolution layers equal the plain ones
in values and gradients, ``Conv`` equals ``nn.Conv``, and on CPU XLA computes the ReLU once
instead of again inside the transposes before a kernel gradient."""

import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from slot_jax.models import layers


def test_relu_equals_nn_relu_for_every_input():
    x = jnp.array([-jnp.inf, -2.0, -1e-30, -0.0, 0.0, 1e-30, 3.0, jnp.inf, jnp.nan])
    weights = jnp.arange(x.size, dtype=jnp.float32)
    for form in (layers.relu, layers._relu_select):
        np.testing.assert_array_equal(form(x), nn.relu(x))  # NaN stays NaN
        np.testing.assert_array_equal(jax.grad(lambda v, f=form: jnp.sum(f(v) * weights[:-1]))(x[:-1]),
                                      jax.grad(lambda v: jnp.sum(nn.relu(v) * weights[:-1]))(x[:-1]))
    assert layers._relu_select(jnp.ones(3, jnp.bfloat16)).dtype == jnp.bfloat16


def test_bias_rows_equal_the_plain_add():
    y = jax.random.normal(jax.random.key(0), (3, 5, 4, 6))
    bias = jax.random.normal(jax.random.key(1), (6,))
    np.testing.assert_array_equal(layers._add_bias_rows(y, bias), y + bias)
    loss = lambda add: lambda y, b: jnp.sum(jnp.sin(add(y, b)))  # noqa: E731
    ours = jax.grad(loss(layers._add_bias_rows), (0, 1))(y, bias)
    for a, b in zip(ours, jax.grad(loss(jnp.add), (0, 1))(y, bias), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel", [(3, 3), (4, 2), (1, 1), (2, 5)])
def test_conv_by_taps_equals_the_convolution(kernel):
    x = jax.random.normal(jax.random.key(0), (2, 6, 5, 7))
    w = jax.random.normal(jax.random.key(1), (*kernel, 7, 2))
    np.testing.assert_allclose(layers._conv_by_taps(x, w), layers.conv2d(x, w),
                               rtol=1e-5, atol=1e-5)
    loss = lambda conv: lambda x, w: jnp.sum(jnp.sin(conv(x, w)))  # noqa: E731
    ours = jax.grad(loss(layers._conv_by_taps), (0, 1))(x, w)
    ref = jax.grad(loss(lambda x, w: layers.conv2d(x, w)), (0, 1))(x, w)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


# (stride, size, input channels, features, dtype); 3x3 kernels. The fourth case has few outputs,
# so on CPU it goes through layers._conv_by_taps.
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


class _TwoLayers(nn.Module):
    plain: bool

    @nn.compact
    def __call__(self, x):
        for i in range(2):
            if self.plain:
                x = nn.relu(nn.Conv(8, (3, 3), padding="SAME", name=f"conv_{i}")(x))
            else:
                x = layers.relu(layers.Conv(8, (3, 3), name=f"conv_{i}")(x))
        return x


def _transposes_that_compute(plain: bool) -> int:
    """How many fused computations of the compiled gradient of :class:`_TwoLayers` on CPU both
    transpose and compute a ReLU (a maximum, compare or select)."""
    model, x = _TwoLayers(plain), jnp.ones((8, 32, 32, 8))
    params = model.init(jax.random.key(0), x)
    # the input's gradient too: each layer's output gradient then feeds a convolution
    grad = jax.jit(jax.grad(lambda p, v: jnp.sum(model.apply(p, v) ** 2), (0, 1)))
    text = grad.lower(params, x).compile().as_text()
    ops: dict[str, set[str]] = {}
    name = None
    for line in text.splitlines():
        if (header := re.match(r"^%?([\w.\-]+) .*\{\s*$", line)) and not line.startswith(" "):
            name = header.group(1)
            ops[name] = set()
        elif name and (op := re.match(r"^\s*(?:ROOT )?%?[\w.\-]+ = \S+ ([a-z\-]+)\(", line)):
            ops[name].add(op.group(1))
    return sum("transpose" in found and bool({"maximum", "compare", "select"} & found)
               for found in ops.values())


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="XLA:CPU's fusion decisions")
def test_on_cpu_the_relu_is_computed_once():
    """With ``nn.relu``, XLA:CPU recomputes the ReLU inside the layout transpose before the second
    layer's kernel gradient (if it no longer does, XLA changed and ``layers.relu`` can go)."""
    assert _transposes_that_compute(plain=True) >= 1
    assert _transposes_that_compute(plain=False) == 0
