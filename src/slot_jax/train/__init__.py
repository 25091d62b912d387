"""Training: optimiser, the pure train step, the one set-up path, the loop, ``--mode=eval`` and
the import of the official TF2 checkpoints."""

from slot_jax.lib.state import TrainState
from slot_jax.train.eval_checkpoint import evaluate
from slot_jax.train.from_tf import convert_tf_checkpoint
from slot_jax.train.loop import NonFiniteLossError, train
from slot_jax.train.optim import make_optimizer, make_schedule, paper_schedule, warmup_cosine_schedule
from slot_jax.train.setup import Setup, abstract_state, build_setup, init_state, state_from_params
from slot_jax.train.step import make_train_step
from slot_jax.train.validate import ConfigError, validate_config, validate_run

__all__ = [
    "ConfigError",
    "NonFiniteLossError",
    "Setup",
    "TrainState",
    "abstract_state",
    "convert_tf_checkpoint",
    "evaluate",
    "init_state",
    "make_optimizer",
    "make_schedule",
    "make_train_step",
    "paper_schedule",
    "state_from_params",
    "build_setup",
    "train",
    "validate_config",
    "validate_run",
    "warmup_cosine_schedule",
]
