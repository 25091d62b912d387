"""The training loop: build, resume, step, log, checkpoint, stop cleanly on SIGTERM or Ctrl-C."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

import jax
import ml_collections
import numpy as np
from absl import logging

from slot_jax.data.dataset import Dataset
from slot_jax.evaluation.images import log_frames, log_images
from slot_jax.lib.logger import Logger
from slot_jax.lib.progress import Progress
from slot_jax.lib.state import TrainState
from slot_jax.lib.trainer_checkpoints import Checkpoints
from slot_jax.lib.workdir_lock import workdir_lock
from slot_jax.train.records import parameter_overview, save_config
from slot_jax.train.setup import Setup, build_setup
from slot_jax.train.slow_run import TIMED_STEPS, slow_run_warning
from slot_jax.train.stop_signals import NAMES, StopSignals, TrainingStopped
from slot_jax.train.validate import validate_run


class NonFiniteLossError(RuntimeError):
    """Raised when the loss is not finite and ``config.on_nonfinite == "stop"``."""


def _check_finite(history: list[dict], config, last_saved: int | None, step: int) -> None:
    bad = [int(m["step"]) for m in history if not bool(m["finite"])]
    if not bad:
        return
    if config.on_nonfinite == "stop":
        kept = ("No checkpoint has been saved yet." if last_saved is None
                else f"The last good checkpoint is step {last_saved}.")
        raise NonFiniteLossError(
            f"Non-finite loss or gradient at step {bad[0]}; stopped at step {step}. {kept} Lower "
            "config.learning_rate, set config.grad_clip_norm (e.g. 0.05), or set "
            "config.on_nonfinite='skip'."
        )
    logging.warning("Skipped %d non-finite updates (steps %s).", len(bad), bad[:10])


def train(
    config: ml_collections.ConfigDict,
    workdir: str,
    step_callback: Callable[[int], None] | None = None,
    devices: list | None = None,
    dataset: Dataset | None = None,
) -> TrainState:
    """Trains ``config`` in ``workdir``, resuming from its latest checkpoint; returns the state.

    ``step_callback(step)`` runs after each step on the host (tests use it to send signals).
    ``devices`` restricts data parallelism to a subset (default: all devices). ``dataset`` is
    ``config.data`` as :func:`slot_jax.train.validate.validate_run` returned it when the caller has
    validated ``config`` and ``workdir`` already; without it, they are validated here.

    SIGTERM at any time (set-up included), or Ctrl-C (SIGINT) once training runs, ends the run
    after the current step: the step reached is saved, then :class:`TrainingStopped` (a
    KeyboardInterrupt) is raised naming it (:mod:`slot_jax.train.stop_signals`). Raises
    :class:`slot_jax.lib.workdir_lock.WorkdirInUseError` when another trainer uses ``workdir``.
    """
    with StopSignals() as stop, contextlib.ExitStack() as on_exit:
        if dataset is None:
            dataset = validate_run(config, workdir, len(devices) if devices else None)
        return _train(build_setup(config, devices, dataset), workdir, stop, step_callback, on_exit)


def _train(run: Setup, workdir, stop: StopSignals, step_callback, on_exit) -> TrainState:
    config = run.config
    os.makedirs(workdir, exist_ok=True)
    lead = jax.process_index() == 0
    if lead:
        on_exit.enter_context(workdir_lock(workdir))  # held until the run ends
    par, model = run.par, run.model
    state = run.init_state()
    # on an error, still waits for the save in flight
    checkpoints = on_exit.enter_context(Checkpoints(workdir, config.keep_checkpoints))
    state = checkpoints.resume(state)
    start = int(state.step)
    if lead:  # after the resume: a workdir of another model keeps its config.json
        save_config(config, workdir)
        logging.info("Parameters:\n%s", parameter_overview(state.params))
    base_key = jax.random.wrap_key_data(np.asarray(jax.device_get(state.rng)))  # not donated
    state = par.replicate(state)
    step_fn = run.train_step
    batches = run.train_batches(start)
    logger = on_exit.enter_context(contextlib.closing(Logger(workdir, "train", enabled=lead)))
    history: list[dict] = []
    total = config.num_train_steps
    video = config.model.architecture == "savi"
    pictures = video or config.model.architecture == "autoencoder"  # not for set prediction
    hooks = config.get("image_log_every", 0) if pictures else 0
    step = start
    progress = on_exit.enter_context(
        # A context, so that its thread stops on exceptions too.
        Progress(total, start, config.batch_size, enabled=lead,
                 unit="videos" if run.dataset.num_frames else "img")
    )
    stop.training = True  # Ctrl-C from now on saves the step reached
    while step < total and not stop.requested:
        host_batch = next(batches)
        state, metrics = step_fn(
            state, par.shard_batch(host_batch), jax.random.fold_in(base_key, step)
        )
        step += 1
        history.append(dict(par.first(metrics), step=step))
        if len(history) > 1:  # at most two steps in flight: SIGTERM is handled within a step
            jax.block_until_ready(history[-2]["loss"])
            if config.on_nonfinite == "stop" and not bool(history[-2]["finite"]):  # done: no new sync
                _check_finite(jax.device_get(history), config, checkpoints.last_saved, step)
        if step_callback is not None:
            step_callback(step)
        progress.update(step, history[-2]["loss"] if len(history) > 1 else None)  # ready: no sync
        if step == start + TIMED_STEPS and lead:
            warning = slow_run_warning(progress.eta(), jax.default_backend(), total - step)
            if warning:
                logging.warning(warning)
        last = stop.requested or step == total
        if step % config.log_every == 0 or last or step == start + 1:  # first: compiled, running
            host = jax.device_get(history)
            _check_finite(host, config, checkpoints.last_saved, step)
            means = {k: float(np.mean([m[k] for m in host])) for k in host[0]
                     if k not in ("finite", "step")}
            progress.update(step, host[-1]["loss"])
            means.update(progress.scalars())
            logger.scalars(step, means)
            history = []
        due = not stop.requested  # stopping: save at once, no images or evaluation
        if due and hooks and (step % hooks == 0 or step == total) and lead:
            params = par.unreplicate(state).params
            if video:  # the frame strip of the batch's first video
                log_frames(logger, model, params, host_batch, base_key, step,
                           config.get("eval_slice_size"))
            else:
                log_images(logger, model, params, host_batch["image"], base_key, step)
        if due and config.get("eval_every", 0) and (step % config.eval_every == 0 or step == total):
            run.evaluator.report(par.unreplicate(state).params, base_key, step, workdir)
        # stop.requested read again: a signal may have come during the evaluation
        if step % config.checkpoint_every == 0 or stop.requested or step == total:
            _check_finite(jax.device_get(history), config, checkpoints.last_saved, step)
            checkpoints.save(step, par.unreplicate(state))
    checkpoints.close()
    if stop.requested and step < total:
        saved = (f"saved step {step} in {checkpoints.directory}" if checkpoints.last_saved == step
                 else "nothing trained yet, nothing to save")
        raise TrainingStopped(f"Stopped by {NAMES[stop.signum]} at step {step} of {total}; {saved}. "
                              "Rerun the same command to resume.", stop.signum)
    return par.unreplicate(state)
