"""orbax checkpoints of the :class:`TrainState` under ``<workdir>/checkpoints/<step>``.

orbax writes each step into a temporary directory and renames it only once complete, and
``cleanup_tmp_directories`` removes leftovers of an interrupted save when a run starts, so a crash
mid-save leaves the previous checkpoint as the latest one. Just before the rename, a manager of
:func:`make_manager` writes the step's checksum (:mod:`slot_jax.lib.checksum`).

A step directory can still be damaged afterwards (bytes changed, truncated or missing files).
:func:`restore` checks each step against its checksum and tries the steps newest first, warning
about each one that is damaged or does not restore. Checkpoints of another model (parameters of
other shapes) are one error naming the parameters (:mod:`slot_jax.lib.checkpoint_shapes`). The
trainer's use of all this, which never deletes a damaged step, is
:class:`slot_jax.lib.trainer_checkpoints.Checkpoints`.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import os
from collections.abc import Callable, Sequence
from typing import Any

import jax
import orbax.checkpoint as ocp
from absl import logging

from slot_jax.lib import checksum
from slot_jax.lib.checkpoint_shapes import param_shapes, shape_differences, stored_param_shapes

TMP_MARK = ".orbax-checkpoint-tmp"  # in the name of a step directory orbax is still writing


class CheckpointError(FileNotFoundError):
    """No usable checkpoint: the requested one does not restore, or none does.

    A FileNotFoundError, so the command lines print it as one ``error:`` line.
    """


class CheckpointSaveError(OSError):
    """A save failed (disk full, permissions); the checkpoints written before it are untouched."""


class OtherModelError(CheckpointError):
    """The checkpoints hold parameters of other shapes: they were written by another model."""


def checkpoint_dir(workdir: str) -> str:
    """``<workdir>/checkpoints`` as an absolute path."""
    return os.path.join(os.path.abspath(workdir), "checkpoints")


@dataclasses.dataclass
class KeepLatestRestorable:
    """orbax preservation policy: the ``n`` newest steps not in ``unrestorable``, and all of those.

    orbax's own ``max_to_keep`` counts a damaged newer directory among the newest ``n``, so a good
    older checkpoint would be deleted in its favour, and the damaged one deleted in turn later.
    """

    n: int
    unrestorable: set[int] = dataclasses.field(default_factory=set)

    def should_preserve(self, checkpoints: Sequence[Any], *, context: Any) -> list[bool]:
        good = sorted(c.step for c in checkpoints if c.step not in self.unrestorable)
        kept = set(good[-self.n:]) if self.n > 0 else set(good)
        return [c.step in kept or c.step in self.unrestorable for c in checkpoints]


def write_pending_checksum(directory: str) -> None:
    """Writes the checksum of the step orbax is saving in ``directory``, whose files are complete
    in its temporary directory (orbax's post-finalization callback, on process 0 only)."""
    if jax.process_index() != 0:
        return
    pending = glob.glob(os.path.join(glob.escape(directory), f"*{TMP_MARK}*"))
    if len(pending) != 1:
        raise RuntimeError(f"expected one step being saved in {directory}, found {pending or 'none'}")
    checksum.write_checksum(pending[0])


def make_manager(
    workdir: str, keep: int, read_only: bool = False, unrestorable: set[int] | None = None
) -> ocp.CheckpointManager:
    """A manager keeping the last ``keep`` checkpoints outside ``unrestorable`` (and those), and
    writing each step's checksum as the save completes.

    The rotation policy holds ``unrestorable`` itself, so steps added to it later are kept too. The
    trainer decides when to save.
    """
    if read_only:
        options = ocp.CheckpointManagerOptions(
            create=False, cleanup_tmp_directories=False, read_only=True
        )
    else:
        policy = KeepLatestRestorable(keep, unrestorable if unrestorable is not None else set())
        options = ocp.CheckpointManagerOptions(
            create=True, cleanup_tmp_directories=True, preservation_policy=policy,
            # A step directory that cannot be created (permissions, disk full) then fails the
            # save at once; created in the background, orbax's writer threads would wait 20
            # minutes for it and hold up the process's exit.
            async_options=ocp.AsyncOptions(
                create_directories_asynchronously=False,
                post_finalization_callback=functools.partial(
                    write_pending_checksum, checkpoint_dir(workdir)
                ),
            ),
        )
    return ocp.CheckpointManager(checkpoint_dir(workdir), options=options)


def save(manager: ocp.CheckpointManager, step: int, state: Any) -> None:
    """Saves ``state`` at ``step`` (asynchronously; ``manager.wait_until_finished()`` to block)."""
    if step in manager.all_steps():
        return
    manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state)), force=True)


def describe_error(err: BaseException) -> str:
    """``err`` on one line, without TensorStore's spec dump, at most about 300 characters."""
    text = " ".join(str(err).split())
    for cut in (" [tensorstore_spec=", " See full TensorStore details"):
        text = text.split(cut)[0]
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(err).__name__}: {text}"


class _Damaged(Exception):
    """A step whose files differ from its checksum."""


def _failure(err: BaseException) -> str:
    """Why a step was not restored, as one phrase after "Checkpoint step N in DIR"."""
    if isinstance(err, _Damaged):
        return f"is damaged ({err})"
    return f"does not restore ({describe_error(err)})"


def _restore_step(manager: ocp.CheckpointManager, target: Any, step: int) -> Any:
    damage = checksum.damage(str(manager.directory / str(step)))
    if damage is not None:
        raise _Damaged(damage)
    restored = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target)))
    return restored["state"]


def check_same_model(manager: ocp.CheckpointManager, abstract_state: Any, steps: list[int]) -> None:
    """Raises :class:`OtherModelError` when the newest of ``steps`` whose metadata reads holds
    parameters of other shapes than ``abstract_state``'s (a :class:`TrainState`)."""
    if not hasattr(abstract_state, "params"):
        return
    for step in reversed(steps):
        stored = stored_param_shapes(manager.directory / str(step))
        if stored is None:
            continue
        differences = shape_differences(stored, param_shapes(abstract_state.params))
        if differences is None:
            return
        raise OtherModelError(
            f"The checkpoints in {manager.directory} were written by another model: "
            f"{differences}. Train this config in a fresh --workdir, or use the config they were "
            f"trained with ({manager.directory.parent / 'config.json'}). Nothing was changed."
        )


def restore(
    manager: ocp.CheckpointManager,
    abstract_state: Any,
    step: int | None = None,
    on_unrestorable: Callable[[dict[int, str]], None] | None = None,
) -> Any:
    """Restores ``step`` into the structure and shardings of ``abstract_state``.

    With ``step=None``: the newest step that is intact (its checksum, where it has one) and
    restores; each newer one gets a warning naming it, and ``on_unrestorable({step: reason})`` is
    called with them once an older one has restored. Raises FileNotFoundError naming the directory
    and the saved steps when there is no checkpoint (or none at ``step``),
    :class:`OtherModelError` when the checkpoints hold parameters of other shapes, and
    :class:`CheckpointError` when ``step`` or every step is damaged or fails to restore. Files are
    never changed.
    """
    steps = sorted(manager.all_steps())
    directory = manager.directory
    if not steps or (step is not None and step not in steps):
        raise FileNotFoundError(
            f"No checkpoint{'' if step is None else f' at step {step}'} in "
            f"{directory}; saved steps: {steps or 'none'}. Train first with "
            "--mode=train and the same --workdir."
        )
    check_same_model(manager, abstract_state, steps if step is None else [step])
    target = jax.tree.map(ocp.utils.to_shape_dtype_struct, abstract_state)
    if step is not None:
        try:
            return _restore_step(manager, target, step)
        except Exception as err:
            raise CheckpointError(
                f"Checkpoint step {step} in {directory / str(step)} {_failure(err)}. Saved steps: "
                f"{steps}; choose another with --checkpoint_step, or leave it out to use the "
                "newest intact step."
            ) from err
    failed: dict[int, str] = {}
    for candidate in reversed(steps):
        try:
            state = _restore_step(manager, target, candidate)
        except Exception as err:
            failed[candidate] = (f"damaged, {err}" if isinstance(err, _Damaged)
                                 else describe_error(err))
            logging.warning(
                "Checkpoint step %d in %s %s; its files are left as they are. %s",
                candidate, directory / str(candidate), _failure(err),
                "Trying the step before it." if candidate != steps[0] else "",
            )
            continue
        if failed:
            logging.warning("Restored step %d of %s instead of step %d.", candidate, directory,
                            max(failed))
            if on_unrestorable is not None:
                on_unrestorable(failed)
        return state
    reasons = "; ".join(f"step {s}: {r}" for s, r in failed.items())
    raise CheckpointError(
        f"No checkpoint in {directory} restores ({reasons}). Its files are left as they are. "
        "Check the config matches the one these checkpoints were trained with, or copy a good "
        "step directory back from a backup; to start from scratch, use a new --workdir or move "
        f"{directory} away."
    )
