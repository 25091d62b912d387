"""The paper's learning-rate schedule and the Adam optimiser (optax)."""

from __future__ import annotations

import jax.numpy as jnp
import ml_collections
import optax


def paper_schedule(
    base_lr: float, warmup_steps: int, decay_steps: int, decay_rate: float = 0.5
) -> optax.Schedule:
    """``lr(step) = base * min(step / warmup, 1) * decay_rate^(step / decay_steps)``.

    Linear warm-up and a continuous exponential decay that applies during warm-up too, exactly as
    the official training loop computes it.
    """

    def schedule(step):
        step = jnp.asarray(step, jnp.float32)
        warm = jnp.minimum(step / max(warmup_steps, 1), 1.0) if warmup_steps > 0 else 1.0
        return base_lr * warm * decay_rate ** (step / decay_steps)

    return schedule


def make_schedule(config: ml_collections.ConfigDict) -> optax.Schedule:
    """The paper schedule from ``config.{learning_rate,warmup_steps,decay_steps,decay_rate}``."""
    return paper_schedule(
        config.learning_rate, config.warmup_steps, config.decay_steps, config.decay_rate
    )


def make_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """Adam (eps 1e-8) on the paper schedule, optionally after global-norm clipping.

    ``config.grad_clip_norm`` > 0 clips (SAVi/ISA use 0.05); 0 disables, as in the paper.
    """
    adam = optax.adam(make_schedule(config), eps=1e-8)
    if config.grad_clip_norm and config.grad_clip_norm > 0:
        return optax.chain(optax.clip_by_global_norm(config.grad_clip_norm), adam)
    return adam
