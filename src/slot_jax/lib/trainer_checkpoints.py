"""The trainer's checkpoints of a workdir (:class:`Checkpoints`): resume, save, keep the last few.

It never deletes or writes into a step directory that is damaged or did not restore, here or in an
earlier run: such steps are listed in ``checkpoints/unrestorable_steps.json``, rotation keeps them
on top of the ``keep`` newest others (:class:`slot_jax.lib.checkpoint.KeepLatestRestorable`), and a
save at their step is skipped with a warning. A failed save leaves the steps written before it as
they were and removes its own partial directory.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
from typing import Any

import jax
from absl import logging

from slot_jax.lib.checkpoint import (
    TMP_MARK,
    CheckpointSaveError,
    checkpoint_dir,
    describe_error,
    make_manager,
    restore,
    save,
)

UNRESTORABLE_FILE = "unrestorable_steps.json"


class Checkpoints:
    """The trainer's checkpoints of ``workdir``: resume, save, and keep the last ``keep``.

    Resumes from the newest intact step that restores (:func:`restore`). Never deletes or writes
    into a step directory that is damaged or did not restore, here or in an earlier run
    (``unrestorable_steps.json``): rotation keeps it on top of the ``keep`` newest others, and a
    save at its step is skipped with a warning. A failed save raises :class:`CheckpointSaveError`
    before rotation deletes anything, and its partial directory is removed.
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
            logging.warning("Ignoring %s (%s).", self._record, describe_error(err))
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
            logging.warning("Could not write %s (%s).", self._record, describe_error(err))

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
        self._in_flight = step
        try:
            save(self.manager, step, state)
        except Exception as err:
            self._in_flight = None
            raise self._save_error(step, err) from err
        self.last_saved = step
        if step in self.unrestorable:  # its directory was moved away: a new checkpoint
            self._forget(step)

    def wait(self) -> None:
        """Blocks until the save in flight is on disk; raises :class:`CheckpointSaveError` if it
        failed."""
        try:
            self.manager.wait_until_finished()
        except Exception as err:
            step, self._in_flight = self._in_flight, None
            raise self._save_error(step, err) from err
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
                logging.warning("Closing the checkpoint manager: %s", describe_error(err))

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
            if not isinstance(exc, CheckpointSaveError):  # not the same failure again
                logging.error("%s", err)

    def _remove_partial(self, step: int | None) -> None:
        """Removes what a failed save of ``step`` left (orbax's temporary directory)."""
        if step is None or jax.process_index() != 0:
            return
        for path in glob.glob(os.path.join(glob.escape(self.directory), f"{step}{TMP_MARK}*")):
            shutil.rmtree(path, ignore_errors=True)

    def _save_error(self, step: int | None, err: Exception) -> CheckpointSaveError:
        self._remove_partial(step)
        if self._written is None:
            kept = "No earlier checkpoint exists"
        else:
            kept = f"The checkpoint of step {self._written} is left as it was"
        return CheckpointSaveError(
            f"Could not save the checkpoint of step {step} in {self.directory} ({describe_error(err)}). "
            f"{kept}; free disk space or fix the directory's permissions, then rerun with the "
            "same --workdir to resume."
        )
