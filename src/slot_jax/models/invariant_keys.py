"""Invariant Slot Attention's per-slot keys and values (``grid_encoder(k + Dense(rel))``), in two
forms: :class:`LiteralGridEncoder` as the paper defines them, and :class:`FactoredGridEncoder`,
the same logits and value sums without the ``[B, K, N, D]`` tensors (the default of
:class:`slot_jax.models.invariant_slot_attention.InvariantSlotAttention`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from slot_jax.models.layers import glorot
from slot_jax.ops import few_input_matmul, rows_matmul


class DenseParams(nn.Module):
    """The parameters of an ``nn.Dense(features, kernel_init=glorot)`` of this module's name, for a
    layer applied in another form: ``kernel [in_features, features]`` then ``bias [features]``,
    with the same names, shapes, initialisers and random draws (so the same parameter tree)."""

    features: int

    @nn.compact
    def __call__(self, in_features: int) -> tuple[jnp.ndarray, jnp.ndarray]:
        kernel = self.param("kernel", glorot, (in_features, self.features))
        return kernel, self.param("bias", nn.initializers.zeros, (self.features,))


class MLPParams(nn.Module):
    """The parameters of an :class:`~slot_jax.models.layers.MLP` ``(features)``: a ``(kernel,
    bias)`` pair per layer, named ``dense_0``, ``dense_1``, ... as there."""

    features: Sequence[int]

    @nn.compact
    def __call__(self, in_features: int) -> list[tuple[jnp.ndarray, jnp.ndarray]]:
        layers = []
        for i, size in enumerate(self.features):
            layers.append(DenseParams(size, name=f"dense_{i}")(in_features))
            in_features = size
        return layers


class LayerNormParams(nn.Module):
    """The ``scale`` (ones) and ``bias`` (zeros) of an ``nn.LayerNorm`` over ``features``."""

    @nn.compact
    def __call__(self, features: int) -> tuple[jnp.ndarray, jnp.ndarray]:
        scale = self.param("scale", nn.initializers.ones, (features,))
        return scale, self.param("bias", nn.initializers.zeros, (features,))


class LiteralGridEncoder(NamedTuple):
    """The per-slot keys or values as the paper defines them: ``[B, K, N, D]`` tensors of
    ``mlp(norm(a + proj(rel)))`` (``InvariantSlotAttention(factored=False)``; the reference of
    :class:`FactoredGridEncoder`)."""

    proj: nn.Module  # Dense(2 -> D)
    norm: nn.Module  # LayerNorm over D
    mlp: nn.Module  # Dense(D -> H), ReLU, Dense(H -> D)

    def prepare(self, a: jnp.ndarray) -> jnp.ndarray:
        """``a [B, N, D]`` (the ``k`` or ``v`` features) -> ``[B, 1, N, D]``."""
        return a[:, None]

    def encode(self, a: jnp.ndarray, rel: jnp.ndarray) -> jnp.ndarray:
        return self.mlp(self.norm(a + self.proj(rel)))  # [B, K, N, D]

    def logits(self, a: jnp.ndarray, rel: jnp.ndarray, q: jnp.ndarray) -> jnp.ndarray:
        """``q [B, K, D]`` against each slot's keys: ``[B, K, N]`` float32."""
        return jnp.einsum("bkd,bknd->bkn", q, self.encode(a, rel)).astype(jnp.float32)

    def weighted_sum(self, a: jnp.ndarray, rel: jnp.ndarray, w: jnp.ndarray) -> jnp.ndarray:
        """``sum_n w [B, K, N] * values [B, K, N, D]``: ``[B, K, D]``."""
        return jnp.einsum("bkn,bknd->bkd", w, self.encode(a, rel))


class FactoredGridEncoder(NamedTuple):
    """:class:`LiteralGridEncoder`'s logits and weighted sums, equal up to float rounding, without
    a ``[B, K, N, D]`` tensor or a matmul over ``B * K * N`` rows.

    With ``x = a + rel @ W + b`` (``W [2, D]``, ``b``: ``proj``'s parameters):

    * ``x - mean(x) = x0[b, n] + sum_c rel_c[b, k, n] Wc[c]``, where ``x0 = a + b`` and ``Wc = W``
      centred over ``D``; so ``D var(x) = |x0|^2 + 2 rel . (x0 Wc^T) + rel^T (Wc Wc^T) rel``:
      inner products of sizes ``[B, N]``, ``[B, N, 2]`` and ``[2, 2]``. (Of centred vectors: no
      ``E[x^2] - mean^2`` cancellation, which Flax's LayerNorm has; clipped at 0 as there.)
    * ``norm(x) @ W1 + b1 = r * (x0 @ G + rel @ (Wc @ G)) + beta @ W1 + b1`` with
      ``r = rsqrt(var + epsilon)`` and ``G = diag(gamma) W1``: one ``[B, N, D] x [D, H]``
      matmul for all rounds and slots, then a broadcast over slots (``gamma``, ``beta``: the
      LayerNorm's scale and offset); ``h`` = its ReLU is ``[B, K, N, H]``, the only
      slot-by-input tensor.
    * The last Dense is linear: ``q . (h @ W2 + b2) = h . (W2 q) + q . b2`` and
      ``sum_n w_n (h_n @ W2 + b2) = (sum_n w_n h_n) @ W2 + b2 sum_n w_n``.

    The statistics, ``r`` and ``h`` are float32, as the literal form's LayerNorm; the matmuls and
    contractions run in ``dtype`` (``None``: float32), as the literal form's Dense layers.
    """

    proj: tuple[jnp.ndarray, jnp.ndarray]  # (W [2, D], b [D])
    norm: tuple[jnp.ndarray, jnp.ndarray]  # (gamma [D], beta [D])
    mlp: list[tuple[jnp.ndarray, jnp.ndarray]]  # [(W1 [D, H], b1 [H]), (W2 [H, D], b2 [D])]
    epsilon: float
    dtype: Any

    def _cast(self, x: jnp.ndarray) -> jnp.ndarray:
        return jnp.asarray(x, self.dtype)

    def prepare(self, a: jnp.ndarray) -> tuple[jnp.ndarray, ...]:
        """The terms of ``a [B, N, D]`` (the ``k`` or ``v`` features) that no pose changes,
        computed once for all rounds: ``|x0|^2 [B, N]``, ``x0 Wc^T [B, N, 2]``, ``x0 G [B, N, H]``."""
        (kernel, bias), (gamma, _), ((w1, _), _) = self.proj, self.norm, self.mlp
        x0 = a.astype(jnp.float32) + bias
        x0 = x0 - jnp.mean(x0, axis=-1, keepdims=True)
        wc = kernel - jnp.mean(kernel, axis=-1, keepdims=True)
        xg = rows_matmul(self._cast(x0), self._cast(gamma[:, None] * w1))
        return jnp.sum(x0 * x0, axis=-1), rows_matmul(x0, wc.T), xg

    def hidden(self, prepared: tuple[jnp.ndarray, ...], rel: jnp.ndarray) -> jnp.ndarray:
        """``h = relu(norm(x) @ W1 + b1)`` for ``rel [B, K, N, 2]``: ``[B, K, N, H]`` float32."""
        sq, xw, xg = prepared
        (kernel, _), (gamma, beta), ((w1, b1), _) = self.proj, self.norm, self.mlp
        wc = kernel - jnp.mean(kernel, axis=-1, keepdims=True)  # [2, D]
        u = (wc * gamma) @ w1  # [2, H]
        quad = jnp.sum((rel @ (wc @ wc.T)) * rel, axis=-1)
        var = (sq[:, None] + 2.0 * jnp.sum(rel * xw[:, None], axis=-1) + quad) / kernel.shape[-1]
        r = jax.lax.rsqrt(jnp.maximum(var, 0.0) + self.epsilon)[..., None]  # [B, K, N, 1]
        # r * (rel @ u) + (beta @ W1 + b1) as one product with 3 inputs ([r * rel, 1]), so that
        # the gradients of u and of the bias are 2-D matmuls (ops.few_input_matmul).
        coef = jnp.concatenate([r * rel, jnp.ones_like(r)], axis=-1)  # [B, K, N, 3]
        rows = jnp.concatenate([u, (beta @ w1 + b1)[None]], axis=0)  # [3, H]
        return nn.relu(r * xg[:, None] + few_input_matmul(coef, rows))

    def logits(self, prepared: tuple[jnp.ndarray, ...], rel: jnp.ndarray,
               q: jnp.ndarray) -> jnp.ndarray:
        (w2, b2) = self.mlp[1]
        qw = jnp.einsum("bkd,hd->bkh", q, self._cast(w2))  # W2 q: [B, K, H]
        h = self._cast(self.hidden(prepared, rel))
        logits = jnp.einsum("bknh,bkh->bkn", h, qw).astype(jnp.float32)
        return logits + (q.astype(jnp.float32) @ b2)[..., None]

    def weighted_sum(self, prepared: tuple[jnp.ndarray, ...], rel: jnp.ndarray,
                     w: jnp.ndarray) -> jnp.ndarray:
        (w2, b2) = self.mlp[1]
        hw = jnp.einsum("bkn,bknh->bkh", w, self._cast(self.hidden(prepared, rel)))
        out = hw @ self._cast(w2) + jnp.sum(w, axis=-1, keepdims=True).astype(jnp.float32) * b2
        return out.astype(w.dtype)
