"""The pure train step ``train_step(state, batch, rng) -> (state, metrics)`` (the task losses are in
:mod:`slot_jax.lib.losses`)."""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from slot_jax.lib.losses import reconstruction_loss
from slot_jax.lib.state import TrainState

Batch = dict[str, jnp.ndarray]


def make_train_step(
    model: nn.Module,
    optimizer: optax.GradientTransformation,
    schedule: optax.Schedule,
    axis_name: str | None = None,
    loss: Callable[..., jnp.ndarray] = reconstruction_loss,
) -> Callable[[TrainState, Batch, jax.Array], tuple[TrainState, dict[str, jnp.ndarray]]]:
    """Builds ``train_step(state, batch, rng)``.

    ``batch["image"]`` is ``[b, H, W, C]``; ``rng`` the step's key; ``loss(model, params, batch,
    rng, axis_name)`` the task's loss (see :data:`slot_jax.lib.losses.LOSSES`). With ``axis_name``
    (pmap) the loss and gradients are averaged over that axis. A non-finite loss or gradient leaves
    params and optimiser state unchanged (the step still counts) and reports ``finite = False``: the
    loop either stops (keeping the last good checkpoint) or goes on, per ``config.on_nonfinite``.
    """

    def train_step(state: TrainState, batch: Batch, rng: jax.Array):
        value, grads = jax.value_and_grad(
            lambda params: loss(model, params, batch, rng, axis_name)
        )(state.params)
        if axis_name is not None:
            value, grads = jax.lax.pmean((value, grads), axis_name)
        grad_norm = optax.tree.norm(grads)
        finite = jnp.isfinite(value) & jnp.isfinite(grad_norm)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(finite, a, b), new, old)  # noqa: E731
        new_state = state.replace(
            step=state.step + 1,
            params=keep(params, state.params),
            opt_state=keep(opt_state, state.opt_state),
        )
        metrics = {
            "loss": value,
            "grad_norm": grad_norm,
            "learning_rate": schedule(state.step),
            "finite": finite,
        }
        return new_state, metrics

    return train_step
