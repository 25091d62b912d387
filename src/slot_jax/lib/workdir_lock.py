"""One trainer per workdir: an exclusive lock on ``<workdir>/trainer.lock`` while a trainer runs.

The lock is ``flock``'s, which the operating system releases when the process ends in any way
(kill -9 included), so a lock file left by a killed run does not block the next one. The holder
writes its pid and host into the file, for the message a second trainer stops with. Evaluation
(``--mode=eval``) takes no lock and may run beside training.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import time
from collections.abc import Iterator

from absl import logging

LOCK_FILE = "trainer.lock"


class WorkdirInUseError(RuntimeError):
    """Another process holds the workdir's trainer lock."""


def _holder(fd: int) -> str:
    """What the lock file says about the process holding it."""
    try:
        text = os.pread(fd, 4096, 0).decode(errors="replace").strip()
    except OSError:
        text = ""
    return text or "a process that has not written its pid yet"


def _lock(fd: int, path: str, workdir: str) -> None:
    """Takes the lock on ``fd`` and writes this process into it (see :func:`workdir_lock`)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            logging.warning("Cannot lock %s (%s); not guarding against a second trainer.",
                            path, err.strerror or err)
            return
        raise WorkdirInUseError(
            f"--workdir={workdir} is in use by another trainer ({_holder(fd)}); wait for it to "
            "finish or stop it, or train in another --workdir. (--mode=eval may run beside it.)"
        ) from None
    since = time.strftime("%Y-%m-%d %H:%M:%S")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on host {socket.gethostname()}, since {since}\n".encode(), 0)


@contextlib.contextmanager
def workdir_lock(workdir: str) -> Iterator[None]:
    """Holds ``workdir``'s trainer lock inside the block; raises :class:`WorkdirInUseError`
    naming the other process (pid, host) when another trainer holds it. Where the file system
    has no locks, warns and goes on without one."""
    path = os.path.join(workdir, LOCK_FILE)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _lock(fd, path, workdir)
        yield
    finally:
        os.close(fd)  # releases the lock
