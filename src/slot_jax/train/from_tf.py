"""An official TF2 checkpoint as an orbax checkpoint of the trainer (``python -m slot_jax.convert``).

The checkpoint it writes is the trainer's own: ``--mode=eval``, resuming with ``--mode=train`` and
:func:`slot_jax.lib.checkpoint.restore` read it like any other.
"""

from __future__ import annotations

import os

import ml_collections

from slot_jax.lib import checkpoint
from slot_jax.tf_checkpoint import ConversionError, flax_params, read_checkpoint
from slot_jax.train.optim import make_optimizer
from slot_jax.train.setup import state_from_params
from slot_jax.train.validate import validate_run


def convert_tf_checkpoint(
    tf_checkpoint: str, config: ml_collections.ConfigDict, workdir: str, step: int | None = None
) -> dict:
    """Writes the official TF2 checkpoint at ``tf_checkpoint`` (a prefix such as ``DIR/ckpt-500``,
    or its directory) as ``<workdir>/checkpoints/<step>``: its weights as the params of
    ``config.model`` (:mod:`slot_jax.tf_checkpoint`), a fresh Adam state and the run key of
    ``config.seed``.

    ``step`` defaults to the TF checkpoint's ``global_step`` (the official object-discovery one was
    saved at step 500000): ``--mode=eval`` labels its results with it, and ``--mode=train``
    continues the official learning-rate schedule from there (with ``config.num_train_steps``
    raised beyond it). ``step=0`` fine-tunes on a fresh schedule, warm-up included.

    Returns ``{"step", "path", "global_step", "parameters"}``. Raises ConfigError for an invalid
    config or ``workdir``, FileNotFoundError without a checkpoint at ``tf_checkpoint``,
    :class:`slot_jax.tf_checkpoint.TFCheckpointError` for a checkpoint of other code,
    :class:`slot_jax.tf_checkpoint.ConversionError` for one that does not fit ``config.model``
    (or a negative ``step``) and FileExistsError when ``workdir`` already holds checkpoints; it
    writes nothing then.
    """
    validate_run(config, workdir)
    source = read_checkpoint(tf_checkpoint)
    params = flax_params(source.variables, config.model)
    if step is None:
        step = source.global_step or 0
    if step < 0:
        raise ConversionError(f"step={step} is negative; give a step >= 0.")
    directory = checkpoint.checkpoint_dir(workdir)
    if os.path.isdir(directory):
        manager = checkpoint.make_manager(workdir, config.keep_checkpoints, read_only=True)
        steps = sorted(manager.all_steps())
        manager.close()
        if steps:
            raise FileExistsError(
                f"{directory} already holds checkpoints (steps {steps}); convert into a new "
                "--workdir."
            )
    state = state_from_params(config, params, make_optimizer(config), step)
    manager = checkpoint.make_manager(workdir, config.keep_checkpoints)
    try:
        checkpoint.save(manager, step, state)
        manager.wait_until_finished()
    finally:
        manager.close()
    count = sum(v.size for v in source.variables.values())
    return {"step": step, "path": os.path.join(directory, str(step)),
            "global_step": source.global_step, "parameters": int(count)}
