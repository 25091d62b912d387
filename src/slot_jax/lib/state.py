"""The training state: everything a checkpoint needs to continue a run exactly."""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax


@flax.struct.dataclass
class TrainState:
    """``step`` (int32 scalar), ``params``, ``opt_state`` and the run's base ``rng`` key data.

    The data-stream position is ``step`` itself: the input pipeline is a deterministic function of
    ``(seed, step)``. The rng is kept as raw key data (uint32) so it checkpoints like any array.
    """

    step: jnp.ndarray
    params: Any
    opt_state: optax.OptState
    rng: jnp.ndarray

    @property
    def key(self) -> jax.Array:
        """The run's base PRNG key (typed)."""
        return jax.random.wrap_key_data(self.rng)


def create_state(params: Any, optimizer: optax.GradientTransformation, rng: jax.Array) -> TrainState:
    """A step-0 state: ``params``, a fresh optimiser state and the base key ``rng``."""
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        opt_state=optimizer.init(params),
        rng=jax.random.key_data(rng),
    )
