"""Training: optimiser, state, the pure train step, data parallelism, checkpoints and the loop."""

from slot_jax.train.loop import NonFiniteLossError, abstract_state, init_state, train
from slot_jax.train.optim import make_optimizer, make_schedule, paper_schedule, warmup_cosine_schedule
from slot_jax.train.state import TrainState
from slot_jax.train.step import make_train_step
from slot_jax.train.validate import ConfigError, validate_config

__all__ = [
    "ConfigError",
    "NonFiniteLossError",
    "TrainState",
    "abstract_state",
    "init_state",
    "make_optimizer",
    "make_schedule",
    "make_train_step",
    "paper_schedule",
    "train",
    "warmup_cosine_schedule",
    "validate_config",
]
