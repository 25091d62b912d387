"""One set-up path: everything a run builds from a config, for the trainer, ``--mode=eval``, the
benchmark and the notebook alike.

:func:`build_setup` validates the config, resolving ``config.data`` to the run's one
:class:`slot_jax.data.Dataset`, and builds the data parallelism, the model, the optimiser and its
schedule, the compiled train step (with the task's loss) and the evaluator; :class:`Setup` then gives
the initial or abstract state and the training batches. Compilation happens on first use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from slot_jax.data.dataset import Dataset
from slot_jax.data.iterators import Batch, train_iterator
from slot_jax.evaluation import Evaluator
from slot_jax.lib.losses import LOSSES
from slot_jax.lib.parallel import DataParallel
from slot_jax.lib.state import TrainState, create_state
from slot_jax.models import build_model
from slot_jax.models.video_init import COORDINATE_WIDTHS
from slot_jax.train.optim import make_optimizer, make_schedule
from slot_jax.train.step import make_train_step
from slot_jax.train.validate import validate_config


def _keys(config: ml_collections.ConfigDict) -> tuple[jax.Array, jax.Array]:
    """``(init_key, run_key)`` of ``config.seed``: the parameters' and the run's."""
    init_key, run_key = jax.random.split(jax.random.key(config.seed))
    return init_key, run_key


def init_inputs(config: ml_collections.ConfigDict) -> tuple:
    """The model's arguments for initialising its params: one zero image ``[1, H, W, C]``, or for
    a video model one one-frame video, no slot noise, and zero conditioning ``[1, K - 1, C]`` when
    its initialiser is conditional."""
    image = jnp.zeros((1, *config.model.image_size, config.model.num_channels), jnp.float32)
    if config.model.architecture != "savi":
        return (image,)
    width = COORDINATE_WIDTHS.get(config.model.slot_init)
    cond = None if width is None else jnp.zeros((1, config.model.num_slots - 1, width))
    return image[:, None], None, cond


def init_state(
    config: ml_collections.ConfigDict, model: nn.Module, optimizer: optax.GradientTransformation
) -> TrainState:
    """A fresh state from ``config.seed`` (params initialised on one example)."""
    init_key, run_key = _keys(config)
    rngs = {"params": init_key, "slots": init_key}
    params = jax.jit(model.init)(rngs, *init_inputs(config))["params"]
    return create_state(params, optimizer, run_key)


def state_from_params(
    config: ml_collections.ConfigDict, params, optimizer: optax.GradientTransformation,
    step: int = 0,
) -> TrainState:
    """A state holding ``params`` at ``step``: a fresh optimiser state and the run key of
    ``config.seed``, as :func:`init_state` gives (e.g. for imported weights)."""
    state = create_state(params, optimizer, _keys(config)[1])
    return state.replace(step=jnp.asarray(step, jnp.int32))


def abstract_state(config: ml_collections.ConfigDict, model: nn.Module) -> TrainState:
    """Shapes and dtypes of the state of ``config`` (no compute): the target for restoring."""
    return jax.eval_shape(lambda: init_state(config, model, make_optimizer(config)))


@dataclasses.dataclass
class Setup:
    """What :func:`build_setup` builds from ``config``.

    Attributes:
      config: the validated config.
      dataset: ``config.data`` resolved: what the training batches and the evaluator read.
      par: data parallelism over the run's devices (``config.parallelism``).
      model: the Flax module of ``config.model``.
      optimizer, schedule: Adam on ``config.schedule`` (see :mod:`slot_jax.train.optim`).
      train_step: ``train_step(state, batch, rng) -> (state, metrics)``, compiled by ``par`` with
        the task's loss; the state is donated.
      evaluator: the held-out evaluation (:class:`slot_jax.evaluation.Evaluator`).
    """

    config: ml_collections.ConfigDict
    dataset: Dataset
    par: DataParallel
    model: nn.Module
    optimizer: optax.GradientTransformation
    schedule: optax.Schedule
    train_step: Callable
    evaluator: Evaluator

    def init_state(self) -> TrainState:
        """A fresh state on the host (``par.replicate`` places it)."""
        return init_state(self.config, self.model, self.optimizer)

    def state_from_params(self, params, step: int = 0) -> TrainState:
        """A state holding ``params`` at ``step`` (:func:`state_from_params`)."""
        return state_from_params(self.config, params, self.optimizer, step)

    def abstract_state(self) -> TrainState:
        """The state's shapes and dtypes, without compute: the target for restoring a checkpoint."""
        return abstract_state(self.config, self.model)

    def train_batches(self, start_step: int = 0) -> Iterator[Batch]:
        """The training stream from ``start_step`` on (a pure function of seed and step)."""
        return train_iterator(
            self.dataset, global_batch_size=self.config.batch_size, seed=self.config.seed,
            start_step=start_step,
        )


def build_setup(
    config: ml_collections.ConfigDict, devices: list | None = None, dataset: Dataset | None = None
) -> Setup:
    """Validates ``config`` and builds its run over ``devices`` (default: all devices).

    ``dataset`` is ``config.data`` as :func:`slot_jax.train.validate.validate_run` returned it, for a
    caller that has validated ``config`` already (the trainer, ``--mode=eval``); without it,
    ``config`` is validated here. Raises :class:`slot_jax.train.ConfigError` with a one-line fix for
    an inconsistent config.
    """
    if dataset is None:
        dataset = validate_config(config, len(devices) if devices else None)
    par = DataParallel(config.parallelism, devices=devices)
    model = build_model(config.model, config.dtype)
    optimizer, schedule = make_optimizer(config), make_schedule(config)
    loss = LOSSES[config.model.architecture]
    step = make_train_step(model, optimizer, schedule, par.axis_name, loss)
    return Setup(
        config=config, dataset=dataset, par=par, model=model, optimizer=optimizer,
        schedule=schedule, train_step=par.compile(step, donate_state=True),
        evaluator=Evaluator(config, model, par, dataset),
    )
