"""Slot initialisers: the paper's learned Gaussian and BO-QSA's learned queries."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from slot_jax.models.layers import glorot

SLOTS_RNG = "slots"


class GaussianSlotInit(nn.Module):
    """``slots = mu + exp(log_sigma) * N(0, I)``, with ``mu, log_sigma`` learned ``[1, 1, D]``.

    The paper's initialiser. Both parameters are glorot-uniform initialised, as in the official code.
    Noise is drawn from the rng stream ``"slots"`` and the sample is a reparameterisation, so
    gradients reach ``mu`` and ``log_sigma``.
    """

    num_slots: int
    slot_size: int

    @nn.compact
    def __call__(self, batch_size: int, noise: jnp.ndarray | None = None) -> jnp.ndarray:
        """Returns ``[batch_size, num_slots, slot_size]`` float32 slots.

        Args:
          batch_size: B.
          noise: optional standard-normal ``[B, K, D]`` to use instead of drawing from ``"slots"``.
            The trainer passes noise drawn for the global batch, so results do not depend on how the
            batch is split over devices.
        """
        shape = (1, 1, self.slot_size)
        mu = self.param("mu", glorot, shape)
        log_sigma = self.param("log_sigma", glorot, shape)
        if noise is None:
            noise = jax.random.normal(
                self.make_rng(SLOTS_RNG), (batch_size, self.num_slots, self.slot_size)
            )
        return mu + jnp.exp(log_sigma) * noise


class LearnedQueriesInit(nn.Module):
    """Learned per-slot queries ``[1, K, D]`` broadcast over the batch (BO-QSA, Jia et al. 2023).

    Deterministic: no rng is consumed. Slot identity is tied to the query index.
    """

    num_slots: int
    slot_size: int

    @nn.compact
    def __call__(self, batch_size: int, noise: jnp.ndarray | None = None) -> jnp.ndarray:
        """Returns ``[batch_size, num_slots, slot_size]`` float32 slots (``noise`` is ignored)."""
        del noise
        queries = self.param("queries", glorot, (1, self.num_slots, self.slot_size))
        return jnp.broadcast_to(queries, (batch_size, self.num_slots, self.slot_size))


SLOT_INITIALISERS = {"gaussian": GaussianSlotInit, "learned_queries": LearnedQueriesInit}
