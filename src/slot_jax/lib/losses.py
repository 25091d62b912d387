"""The task losses, ``loss(model, params, batch, rng, axis_name) -> scalar`` (:data:`LOSSES`): the
reconstruction MSE of object discovery (of every frame, for a video model) and the set-prediction
loss, whose pairwise Huber costs and Hungarian matching per example (jittable) the held-out
evaluation reuses.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from slot_jax.lib.forward import forward, video_forward


def mse(recon: jnp.ndarray, image: jnp.ndarray) -> jnp.ndarray:
    """Mean squared error in float32 over all pixels and the batch (the paper's loss)."""
    return jnp.mean((recon.astype(jnp.float32) - image.astype(jnp.float32)) ** 2)


def pairwise_huber_cost(
    predictions: jnp.ndarray, targets: jnp.ndarray, delta: float = 1.0
) -> jnp.ndarray:
    """Huber distance of every (target, prediction) pair, averaged over the property dims.

    Args:
      predictions: ``[B, K, P]``.
      targets: ``[B, M, P]``.
      delta: the Huber threshold (paper: 1).

    Returns:
      float32 cost ``[B, M, K]``: ``cost[b, i, j]`` is the mean Huber loss between target ``i`` and
      prediction ``j`` of example ``b`` (rows are targets, as in the official loss).
    """
    diff = optax.losses.huber_loss(
        predictions[:, None, :, :].astype(jnp.float32),
        targets[:, :, None, :].astype(jnp.float32),
        delta=delta,
    )
    return jnp.mean(diff, axis=-1)


def match(cost: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Minimum-cost one-to-one assignment of each example's cost matrix (no gradient).

    Args:
      cost: ``[B, M, K]``.

    Returns:
      ``(rows, cols)``, int ``[B, min(M, K)]`` each: row ``rows[b, n]`` (a target) is assigned column
      ``cols[b, n]`` (a prediction), and ``cost[b, rows[b], cols[b]].sum()`` is the minimum.
    """
    cost = jax.lax.stop_gradient(cost)
    return jax.vmap(optax.assignment.hungarian_algorithm)(cost)


def matched_cost(cost: jnp.ndarray, rows: jnp.ndarray, cols: jnp.ndarray) -> jnp.ndarray:
    """The summed cost of each example's assignment, differentiable in ``cost``.

    Args:
      cost: ``[B, M, K]``.
      rows, cols: ``[B, n]`` from :func:`match`.

    Returns:
      float32 ``[B]``.
    """
    batch = jnp.arange(cost.shape[0])[:, None]
    return jnp.sum(cost[batch, rows, cols], axis=-1)


def hungarian_huber_loss(
    predictions: jnp.ndarray, targets: jnp.ndarray, delta: float = 1.0
) -> jnp.ndarray:
    """The paper's set loss: Hungarian-matched pairwise Huber costs, summed per example, batch mean.

    The matching runs on the stopped-gradient cost; gradients flow through the matched costs into
    ``predictions`` (and ``targets``).

    Args:
      predictions: ``[B, K, P]``.
      targets: ``[B, K, P]`` (padding rows included, so every prediction is matched).
      delta: the Huber threshold (paper: 1).

    Returns:
      float32 scalar.
    """
    cost = pairwise_huber_cost(predictions, targets, delta)
    rows, cols = match(cost)
    return jnp.mean(matched_cost(cost, rows, cols))


def reconstruction_loss(model, params, batch, rng, axis_name) -> jnp.ndarray:
    """The object-discovery loss: MSE of the reconstruction of ``batch["image"]``."""
    out = forward(model, params, batch["image"], rng, axis_name)
    return mse(out["recon"], batch["image"])


def video_reconstruction_loss(model, params, batch, rng, axis_name) -> jnp.ndarray:
    """A video model's loss: MSE of the reconstruction of every frame of ``batch["video"]``."""
    out = video_forward(model, params, batch, rng, axis_name)
    return mse(out["recon"], batch["video"])


def set_prediction_loss(model, params, batch, rng, axis_name) -> jnp.ndarray:
    """The set-prediction loss of ``batch["targets"]`` (Hungarian-matched Huber)."""
    out = forward(model, params, batch["image"], rng, axis_name)
    return hungarian_huber_loss(out["predictions"], batch["targets"])


# The loss of each ``config.model.architecture``: ``loss(model, params, batch, rng, axis_name)``.
LOSSES: dict[str, Callable[..., jnp.ndarray]] = {
    "autoencoder": reconstruction_loss,
    "set_prediction": set_prediction_loss,
    "savi": video_reconstruction_loss,
}
