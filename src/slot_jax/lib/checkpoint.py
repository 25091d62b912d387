"""orbax checkpoints of the :class:`TrainState` under ``<workdir>/checkpoints/<step>``.

orbax writes each step into a temporary directory and renames it only once complete, and
``cleanup_tmp_directories`` removes leftovers of an interrupted save when a run starts, so a crash
mid-save leaves the previous checkpoint as the latest one.

A step directory can still be damaged afterwards (truncated or garbled files, a missing file).
orbax lists it like any other, so :func:`restore` tries the steps newest first and warns about each
one that does not restore. The trainer (:class:`Checkpoints`) never deletes or writes into such a
directory: it is kept out of the ``keep`` newest that rotation counts, a save at its step is
skipped with a warning, and its step is listed in ``checkpoints/unrestorable_steps.json`` so that
later runs, which resume from a newer step and do not try it again, keep it too.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import jax
import orbax.checkpoint as ocp
from absl import logging

UNRESTORABLE_FILE = "unrestorable_steps.json"


class CheckpointError(FileNotFoundError):
    """No usable checkpoint: the requested one does not restore, or none does.

    A FileNotFoundError, so the command lines print it as one ``error:`` line.
    """


class CheckpointSaveError(OSError):
    """A save failed (disk full, permissions); the checkpoints written before it are untouched."""


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


def make_manager(
    workdir: str, keep: int, read_only: bool = False, unrestorable: set[int] | None = None
) -> ocp.CheckpointManager:
    """A manager keeping the last ``keep`` checkpoints outside ``unrestorable`` (and those).

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
            async_options=ocp.AsyncOptions(create_directories_asynchronously=False),
        )
    return ocp.CheckpointManager(checkpoint_dir(workdir), options=options)


def save(manager: ocp.CheckpointManager, step: int, state: Any) -> None:
    """Saves ``state`` at ``step`` (asynchronously; ``manager.wait_until_finished()`` to block)."""
    if step in manager.all_steps():
        return
    manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state)), force=True)


def _reason(err: BaseException) -> str:
    """``err`` on one line, without TensorStore's spec dump, at most about 300 characters."""
    text = " ".join(str(err).split())
    for cut in (" [tensorstore_spec=", " See full TensorStore details"):
        text = text.split(cut)[0]
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(err).__name__}: {text}"


def _restore_step(manager: ocp.CheckpointManager, target: Any, step: int) -> Any:
    restored = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target)))
    return restored["state"]


def restore(
    manager: ocp.CheckpointManager,
    abstract_state: Any,
    step: int | None = None,
    on_unrestorable: Callable[[dict[int, str]], None] | None = None,
) -> Any:
    """Restores ``step`` into the structure and shardings of ``abstract_state``.

    With ``step=None``: the newest step that restores; each newer one that does not gets a warning
    naming it, and ``on_unrestorable({step: reason})`` is called with them once an older one has
    restored. Raises FileNotFoundError naming the directory and the saved steps when there is no
    checkpoint (or none at ``step``), and :class:`CheckpointError` when ``step`` or every step
    fails to restore. Files are never changed.
    """
    steps = sorted(manager.all_steps())
    directory = manager.directory
    if not steps or (step is not None and step not in steps):
        raise FileNotFoundError(
            f"No checkpoint{'' if step is None else f' at step {step}'} in "
            f"{directory}; saved steps: {steps or 'none'}. Train first with "
            "--mode=train and the same --workdir."
        )
    target = jax.tree.map(ocp.utils.to_shape_dtype_struct, abstract_state)
    if step is not None:
        try:
            return _restore_step(manager, target, step)
        except Exception as err:
            raise CheckpointError(
                f"Checkpoint step {step} in {directory / str(step)} does not restore ({_reason(err)}). "
                f"Saved steps: {steps}; choose another with --checkpoint_step, or leave it out to "
                "use the newest step that restores."
            ) from err
    failed: dict[int, str] = {}
    for candidate in reversed(steps):
        try:
            state = _restore_step(manager, target, candidate)
        except Exception as err:
            failed[candidate] = _reason(err)
            logging.warning(
                "Checkpoint step %d in %s does not restore (%s); its files are left as they are. %s",
                candidate, directory / str(candidate), failed[candidate],
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


class Checkpoints:
    """The trainer's checkpoints of ``workdir``: resume, save, and keep the last ``keep``.

    Resumes from the newest step that restores (:func:`restore`). Never deletes or writes into a
    step directory that did not restore, here or in an earlier run (``unrestorable_steps.json``):
    rotation keeps it on top of the ``keep`` newest others, and a save at its step is skipped with
    a warning. A failed save raises :class:`CheckpointSaveError`, before rotation deletes anything.
    """

    def __init__(self, workdir: str, keep: int):
        self.directory = checkpoint_dir(workdir)
        self._record = os.path.join(self.directory, UNRESTORABLE_FILE)
        self.unrestorable = self._read_record()
        self._policy_steps = set(self.unrestorable)  # the rotation policy's set: kept up to date
        self.manager = make_manager(workdir, keep, unrestorable=self._policy_steps)
        self.last_saved: int | None = None  # restored or saved (possibly still being written)
        self._written: int | None = None  # known to be complete on disk
        self._in_flight: int | None = None
        self._closed = False

    def _read_record(self) -> dict[int, str]:
        try:
            with open(self._record) as f:
                return {int(step): str(reason) for step, reason in json.load(f).items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, AttributeError) as err:
            logging.warning("Ignoring %s (%s).", self._record, _reason(err))
            return {}

    def _write_record(self) -> None:
        if jax.process_index() != 0:
            return
        tmp = self._record + ".tmp"
        try:
            with open(tmp, "w") as f:
                json.dump({str(s): r for s, r in sorted(self.unrestorable.items())}, f, indent=1)
            os.replace(tmp, self._record)
        except OSError as err:
            logging.warning("Could not write %s (%s).", self._record, _reason(err))

    def _add_unrestorable(self, failed: dict[int, str]) -> None:
        self.unrestorable.update(failed)
        self._policy_steps.update(failed)
        self._write_record()

    def _forget(self, step: int) -> None:
        del self.unrestorable[step]
        self._policy_steps.discard(step)
        self._write_record()

    def resume(self, state: Any) -> Any:
        """``state`` restored from the newest step that restores; ``state`` itself if none saved."""
        if not self.manager.all_steps():
            return state
        state = restore(self.manager, state, on_unrestorable=self._add_unrestorable)
        self.last_saved = self._written = int(state.step)
        if self.last_saved in self.unrestorable:  # restores again (repaired): rotation may take it
            self._forget(self.last_saved)
        logging.info("Resumed from %s at step %d.", self.directory, self.last_saved)
        return state

    def save(self, step: int, state: Any) -> None:
        """Starts saving ``state`` at ``step``; raises :class:`CheckpointSaveError` if the previous
        save failed or this one cannot start."""
        if step == self.last_saved:  # already saved (SIGTERM right after a periodic save)
            return
        if step in self.manager.all_steps():
            why = (f"a checkpoint that did not restore ({self.unrestorable[step]})"
                   if step in self.unrestorable else "a checkpoint this run did not write")
            logging.warning(
                "Not saving step %d: %s already holds %s. It is left as it is; move it away to let "
                "the run save this step.", step, os.path.join(self.directory, str(step)), why,
            )
            return
        self.wait()
        try:
            save(self.manager, step, state)
        except Exception as err:
            raise self._save_error(step, err) from err
        self._in_flight = self.last_saved = step
        if step in self.unrestorable:  # its directory was moved away: a new checkpoint
            self._forget(step)

    def wait(self) -> None:
        """Blocks until the save in flight is on disk; raises :class:`CheckpointSaveError` if it
        failed."""
        try:
            self.manager.wait_until_finished()
        except Exception as err:
            raise self._save_error(self._in_flight, err) from err
        if self._in_flight is not None:
            self._written, self._in_flight = self._in_flight, None

    def close(self) -> None:
        """:meth:`wait`, then closes the manager."""
        if self._closed:
            return
        self._closed = True
        try:
            self.wait()
        finally:
            try:
                self.manager.close()
            except Exception as err:  # a failed save again, which wait() has raised
                logging.warning("Closing the checkpoint manager: %s", _reason(err))

    def __enter__(self) -> Checkpoints:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        """On an error (a non-finite loss, an interrupt): finishes the save in flight first, so
        the step the error message calls the last good checkpoint is complete on disk."""
        if exc_type is None:
            self.close()
            return
        try:
            self.close()
        except Exception as err:  # already failing: report, do not mask the first error
            logging.error("%s", err)

    def _save_error(self, step: int | None, err: Exception) -> CheckpointSaveError:
        if self._written is None:
            kept = "No earlier checkpoint exists"
        else:
            kept = f"The checkpoint of step {self._written} is left as it was"
        return CheckpointSaveError(
            f"Could not save the checkpoint of step {step} in {self.directory} ({_reason(err)}). "
            f"{kept}; free disk space or fix the directory's permissions, then rerun with the "
            "same --workdir to resume."
        )
