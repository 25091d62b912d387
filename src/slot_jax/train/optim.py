"""Learning-rate schedules (the paper's, and warm-up + cosine) and the Adam optimiser (optax)."""

from __future__ import annotations

import jax.numpy as jnp
import ml_collections
import optax

SCHEDULES = ("paper", "warmup_cosine")


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


def warmup_cosine_schedule(base_lr: float, warmup_steps: int, total_steps: int) -> optax.Schedule:
    """Linear warm-up from 0 to ``base_lr``, then cosine decay to 0 at ``total_steps`` (SAVi, ISA).

    ``lr(s) = base * s / warmup`` for ``s < warmup``, then
    ``base * (1 + cos(pi * (s - warmup) / (total - warmup))) / 2``, and 0 from ``total`` on.
    """
    return optax.warmup_cosine_decay_schedule(
        init_value=0.0, peak_value=base_lr, warmup_steps=warmup_steps, decay_steps=total_steps,
        end_value=0.0,
    )


def make_schedule(config: ml_collections.ConfigDict) -> optax.Schedule:
    """The schedule ``config.schedule`` names (default ``"paper"``).

    ``"paper"`` reads ``config.{learning_rate,warmup_steps,decay_steps,decay_rate}``;
    ``"warmup_cosine"`` reads ``config.{learning_rate,warmup_steps,num_train_steps}``.
    """
    kind = config.get("schedule", "paper")
    if kind == "warmup_cosine":
        return warmup_cosine_schedule(
            config.learning_rate, config.warmup_steps, config.num_train_steps
        )
    if kind != "paper":
        raise ValueError(f"Unknown config.schedule={kind!r}; choose one of {SCHEDULES}.")
    return paper_schedule(
        config.learning_rate, config.warmup_steps, config.decay_steps, config.decay_rate
    )


def make_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """Adam (eps 1e-8) on :func:`make_schedule`, optionally after global-norm clipping.

    ``config.grad_clip_norm`` > 0 clips (SAVi/ISA use 0.05); 0 disables, as in the paper.
    """
    adam = optax.adam(make_schedule(config), eps=1e-8)
    if config.grad_clip_norm and config.grad_clip_norm > 0:
        return optax.chain(optax.clip_by_global_norm(config.grad_clip_norm), adam)
    return adam
