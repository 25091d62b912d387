"""The pure train step ``train_step(state, batch, rng) -> (state, metrics)`` and the task losses."""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from slot_jax.lib.forward import forward
from slot_jax.lib.state import TrainState
from slot_jax.set_loss import hungarian_huber_loss

Batch = dict[str, jnp.ndarray]


def mse(recon: jnp.ndarray, image: jnp.ndarray) -> jnp.ndarray:
    """Mean squared error in float32 over all pixels and the batch (the paper's loss)."""
    return jnp.mean((recon.astype(jnp.float32) - image.astype(jnp.float32)) ** 2)


def reconstruction_loss(model, params, batch, rng, axis_name) -> jnp.ndarray:
    """The object-discovery loss: MSE of the reconstruction of ``batch["image"]``."""
    out = forward(model, params, batch["image"], rng, axis_name)
    return mse(out["recon"], batch["image"])


def set_prediction_loss(model, params, batch, rng, axis_name) -> jnp.ndarray:
    """The set-prediction loss of ``batch["targets"]`` (Hungarian-matched Huber)."""
    out = forward(model, params, batch["image"], rng, axis_name)
    return hungarian_huber_loss(out["predictions"], batch["targets"])


# The loss of each ``config.model.architecture``: ``loss(model, params, batch, rng, axis_name)``.
LOSSES: dict[str, Callable[..., jnp.ndarray]] = {
    "autoencoder": reconstruction_loss,
    "set_prediction": set_prediction_loss,
}


def make_train_step(
    model: nn.Module,
    optimizer: optax.GradientTransformation,
    schedule: optax.Schedule,
    axis_name: str | None = None,
    loss: Callable[..., jnp.ndarray] = reconstruction_loss,
) -> Callable[[TrainState, Batch, jax.Array], tuple[TrainState, dict[str, jnp.ndarray]]]:
    """Builds ``train_step(state, batch, rng)``.

    ``batch["image"]`` is ``[b, H, W, C]``; ``rng`` the step's key; ``loss(model, params, batch,
    rng, axis_name)`` the task's loss (see :data:`LOSSES`). With ``axis_name`` (pmap) the
    loss and gradients are averaged over that axis. A non-finite loss or gradient leaves params and
    optimiser state unchanged (the step still counts) and reports ``finite = False``: the loop
    either stops (keeping the last good checkpoint) or goes on, per ``config.on_nonfinite``.
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
