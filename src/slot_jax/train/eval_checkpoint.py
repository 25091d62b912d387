"""``--mode=eval``: restores a checkpoint of a workdir and evaluates the whole held-out split once."""

from __future__ import annotations

import os

import ml_collections

from slot_jax.data.dataset import Dataset
from slot_jax.lib import checkpoint
from slot_jax.train.setup import build_setup


def evaluate(
    config: ml_collections.ConfigDict, workdir: str, checkpoint_step: int | None = None,
    dataset: Dataset | None = None,
) -> dict:
    """Evaluates the checkpoint at ``checkpoint_step`` (default: the newest that restores).

    ``dataset``: ``config.data`` as validation returned it, when the caller has validated
    ``config`` (see :func:`slot_jax.train.build_setup`).

    Raises FileNotFoundError without checkpoints, and :class:`slot_jax.lib.checkpoint.CheckpointError`
    (a FileNotFoundError) when the requested one, or every one, does not restore.

    Writes what the periodic evaluation writes (:meth:`slot_jax.evaluation.Evaluator.report`) and
    returns ``{"step", "metrics", "path", "line"}``.
    """
    run = build_setup(config, dataset=dataset)
    if not os.path.isdir(checkpoint.checkpoint_dir(workdir)):
        raise FileNotFoundError(
            f"No checkpoints in workdir {os.path.abspath(workdir)!r}; train first with "
            f"--mode=train --workdir={workdir}."
        )
    manager = checkpoint.make_manager(workdir, config.keep_checkpoints, read_only=True)
    try:  # without checkpoint_step, the newest step that restores (older ones in turn, warning)
        state = checkpoint.restore(manager, run.abstract_state(), checkpoint_step)
    finally:
        manager.close()
    return run.evaluator.report(state.params, state.key, int(state.step), workdir)
