"""``slot_jax.ops``: each CPU form, and the op as the CPU runs it, equals the plain operation
(``jax.nn.relu``, ``+``, ``lax.conv_general_dilated``, ``lax.conv_transpose``, ``@``) in values
and gradients; other platforms get the plain forms; and on CPU XLA computes the select ReLU once
instead of again inside the transposes before a kernel gradient."""

import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_close_to_scale

from slot_jax import ops
from slot_jax.models import layers
from slot_jax.ops import broadcast, convolution, elementwise, matmul, subpixel
from slot_jax.ops.platform import by_platform


def _sin_loss(fn):
    return lambda *args: jnp.sum(jnp.sin(fn(*args)))


def _same_grads(fn, ref, args, tol):
    """``fn`` and ``ref`` have the same gradients, each within ``tol`` x its largest magnitude."""
    argnums = tuple(range(len(args)))
    assert_close_to_scale(jax.grad(_sin_loss(fn), argnums)(*args),
                          jax.grad(_sin_loss(ref), argnums)(*args), tol)


def _lowered(fn, platform: str, *args) -> str:
    return jax.export.export(jax.jit(fn), platforms=(platform,))(*args).mlir_module()


def test_by_platform_picks_the_cpu_form_on_cpu_only():
    fn = lambda x: by_platform(x, cpu=lambda v: v + 1, default=lambda v: v * 3)  # noqa: E731
    x = jnp.arange(3.0)
    if jax.default_backend() == "cpu":
        np.testing.assert_array_equal(jax.jit(fn)(x), x + 1)
    assert "stablehlo.add" in _lowered(fn, "cpu", x)
    cuda = _lowered(fn, "cuda", x)
    assert "stablehlo.multiply" in cuda and "stablehlo.add" not in cuda


def test_relu_equals_jax_relu_for_every_input():
    x = jnp.array([-jnp.inf, -2.0, -1e-30, -0.0, 0.0, 1e-30, 3.0, jnp.inf, jnp.nan])
    weights = jnp.arange(x.size, dtype=jnp.float32)
    for form in (ops.relu, elementwise._relu_select):
        np.testing.assert_array_equal(form(x), jax.nn.relu(x))  # NaN stays NaN
        np.testing.assert_array_equal(jax.grad(lambda v, f=form: jnp.sum(f(v) * weights[:-1]))(x[:-1]),
                                      jax.grad(lambda v: jnp.sum(jax.nn.relu(v) * weights[:-1]))(x[:-1]))
    assert elementwise._relu_select(jnp.ones(3, jnp.bfloat16)).dtype == jnp.bfloat16
    assert "stablehlo.select" in _lowered(ops.relu, "cpu", x)
    assert "stablehlo.maximum" in _lowered(ops.relu, "cuda", x)


def test_add_bias_equals_the_plain_add():
    y = jax.random.normal(jax.random.key(0), (3, 5, 4, 6))
    bias = jax.random.normal(jax.random.key(1), (6,))
    for form in (ops.add_bias, elementwise._add_bias_rows):
        np.testing.assert_array_equal(form(y, bias), y + bias)
        _same_grads(form, jnp.add, (y, bias), 1e-5)


@pytest.mark.parametrize("kernel", [(3, 3), (4, 2), (1, 1), (2, 5)])
def test_conv_by_taps_equals_the_convolution(kernel):
    """``kh*kw*F <= C`` for each kernel here, so ``ops.conv`` takes the taps form on CPU."""
    x = jax.random.normal(jax.random.key(0), (2, 6, 5, 20))
    w = jax.random.normal(jax.random.key(1), (*kernel, 20, 1))
    ref = lambda x, w: jax.lax.conv_general_dilated(  # noqa: E731
        x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    for form in (convolution._conv_by_taps, ops.conv):
        np.testing.assert_allclose(form(x, w), ref(x, w), rtol=1e-5, atol=1e-5)
        _same_grads(form, ref, (x, w), 1e-4)


@pytest.mark.parametrize("strides, padding", [((2, 2), "SAME"), ((1, 1), ((1, 0), (0, 2))),
                                              ((1, 2), "VALID")])
def test_conv_of_other_strides_and_padding_is_the_convolution(strides, padding):
    x = jax.random.normal(jax.random.key(0), (2, 6, 5, 20))
    w = jax.random.normal(jax.random.key(1), (3, 3, 20, 2))
    ref = jax.lax.conv_general_dilated(x, w, strides, padding,
                                       dimension_numbers=("NHWC", "HWIO", "NHWC"))
    np.testing.assert_array_equal(ops.conv(x, w, strides, padding), ref)


def _conv_transpose_ref(x, k, stride):
    return jax.lax.conv_transpose(x, k, (stride, stride), "SAME",
                                  dimension_numbers=("NHWC", "HWIO", "NHWC"))


@pytest.mark.parametrize("per_phase", [True, False, None])
@pytest.mark.parametrize("kernel,stride", [(5, 2), (4, 2), (5, 3), (1, 2), (3, 1), (2, 3)])
def test_conv_transpose_equals_lax_conv_transpose(kernel, stride, per_phase):
    """The CPU's per-phase form, the packed form of other backends (both run here), and the op."""
    x = jax.random.normal(jax.random.key(0), (2, 3, 4, 3))
    k = jax.random.normal(jax.random.key(1), (kernel, kernel, 3, 5))
    fn = lambda x, k: subpixel.conv_transpose(x, k, (stride, stride), per_phase)  # noqa: E731
    ref = lambda x, k: _conv_transpose_ref(x, k, stride)  # noqa: E731
    assert fn(x, k).shape == (2, 3 * stride, 4 * stride, 5)
    np.testing.assert_allclose(fn(x, k), ref(x, k), atol=1e-5, rtol=1e-5)
    _same_grads(fn, ref, (x, k), 1e-4)


def test_valid_taps_counts_the_taps_inside():
    mask = broadcast.valid_taps(4, 5, 3, 3)
    assert mask.shape == (4, 5, 9)
    assert mask[0, 0].sum() == 4 and mask[1, 1].sum() == 9 and mask[0, 2].sum() == 6
    assert mask[3, 4].reshape(3, 3)[2].sum() == 0  # last row: no tap below the image


@pytest.mark.parametrize("kernel, size", [(3, (5, 5)), (5, (6, 4)), (4, (5, 6)), (1, (3, 3))])
def test_broadcast_conv_equals_the_conv_of_the_broadcast(kernel, size):
    vectors = jax.random.normal(jax.random.key(0), (3, 6))
    shared = jax.random.normal(jax.random.key(1), (1, *size, 6))
    w = jax.random.normal(jax.random.key(2), (kernel, kernel, 6, 5))
    ref = lambda v, s, w: jax.lax.conv_general_dilated(  # noqa: E731
        v[:, None, None, :] + s, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    np.testing.assert_allclose(ops.broadcast_conv(vectors, shared, w), ref(vectors, shared, w),
                               rtol=1e-5, atol=1e-5)
    _same_grads(ops.broadcast_conv, ref, (vectors, shared, w), 1e-5)


@pytest.mark.parametrize("form", [matmul.rows_matmul, matmul.few_input_matmul])
def test_matmuls_equal_the_plain_matmul(form):
    x = jax.random.normal(jax.random.key(0), (2, 3, 4, 3))
    w = jax.random.normal(jax.random.key(1), (3, 5))
    np.testing.assert_allclose(form(x, w), x @ w, rtol=1e-5, atol=1e-5)
    _same_grads(form, jnp.matmul, (x, w), 1e-5)


class _TwoLayers(nn.Module):
    plain: bool

    @nn.compact
    def __call__(self, x):
        for i in range(2):
            if self.plain:
                x = nn.relu(nn.Conv(8, (3, 3), padding="SAME", name=f"conv_{i}")(x))
            else:
                x = ops.relu(layers.Conv(8, (3, 3), name=f"conv_{i}")(x))
        return x


def _transposes_that_compute(plain: bool) -> int:
    """How many fused computations of the compiled gradient of :class:`_TwoLayers` on CPU both
    transpose and compute a ReLU (a maximum, compare or select)."""
    model, x = _TwoLayers(plain), jnp.ones((8, 32, 32, 8))
    params = model.init(jax.random.key(0), x)
    # the input's gradient too: each layer's output gradient then feeds a convolution
    grad = jax.jit(jax.grad(lambda p, v: jnp.sum(model.apply(p, v) ** 2), (0, 1)))
    text = grad.lower(params, x).compile().as_text()
    found_ops: dict[str, set[str]] = {}
    name = None
    for line in text.splitlines():
        if (header := re.match(r"^%?([\w.\-]+) .*\{\s*$", line)) and not line.startswith(" "):
            name = header.group(1)
            found_ops[name] = set()
        elif name and (op := re.match(r"^\s*(?:ROOT )?%?[\w.\-]+ = \S+ ([a-z\-]+)\(", line)):
            found_ops[name].add(op.group(1))
    return sum("transpose" in found and bool({"maximum", "compare", "select"} & found)
               for found in found_ops.values())


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="XLA:CPU's fusion decisions")
def test_on_cpu_the_relu_is_computed_once():
    """With ``nn.relu``, XLA:CPU recomputes the ReLU inside the layout transpose before the second
    layer's kernel gradient (if it no longer does, XLA changed and ``ops.relu``'s CPU form can go)."""
    assert _transposes_that_compute(plain=True) >= 1
    assert _transposes_that_compute(plain=False) == 0
