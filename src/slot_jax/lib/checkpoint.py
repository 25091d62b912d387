"""orbax checkpoints of the :class:`TrainState` under ``<workdir>/checkpoints/<step>``.

orbax writes each step into a temporary directory and renames it only once complete, and
``cleanup_tmp_directories`` removes leftovers of an interrupted save when a run starts, so a crash
mid-save leaves the previous checkpoint as the latest one.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import orbax.checkpoint as ocp


def checkpoint_dir(workdir: str) -> str:
    """``<workdir>/checkpoints`` as an absolute path."""
    return os.path.join(os.path.abspath(workdir), "checkpoints")


def make_manager(workdir: str, keep: int, read_only: bool = False) -> ocp.CheckpointManager:
    """A manager keeping the last ``keep`` checkpoints. The trainer decides when to save."""
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, create=not read_only, cleanup_tmp_directories=not read_only,
        read_only=read_only,
    )
    return ocp.CheckpointManager(checkpoint_dir(workdir), options=options)


def save(manager: ocp.CheckpointManager, step: int, state: Any) -> None:
    """Saves ``state`` at ``step`` (asynchronously; ``manager.wait_until_finished()`` to block)."""
    if step in manager.all_steps():
        return
    manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state)), force=True)


def restore(manager: ocp.CheckpointManager, abstract_state: Any, step: int | None = None) -> Any:
    """Restores ``step`` (default: the latest) into the structure and shardings of ``abstract_state``.

    Raises FileNotFoundError naming the directory and the saved steps when there is none.
    """
    steps = manager.all_steps()
    if step is None:
        step = manager.latest_step()
    if step is None or step not in steps:
        raise FileNotFoundError(
            f"No checkpoint{'' if step is None else f' at step {step}'} in "
            f"{manager.directory}; saved steps: {sorted(steps) or 'none'}. Train first with "
            "--mode=train and the same --workdir."
        )
    target = jax.tree.map(ocp.utils.to_shape_dtype_struct, abstract_state)
    restored = manager.restore(
        step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target))
    )
    return restored["state"]
