"""What the config checks of each layer share: :class:`ConfigError` and one-line checks of a key's
value, each naming the key and the fix."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence


class ConfigError(ValueError):
    """A config that cannot train; the message names the key and the fix."""


def is_number(value) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_choice(key: str, value, choices: Sequence) -> None:
    """``config.<key>`` must be one of ``choices``."""
    if value not in choices:
        raise ConfigError(f"Unknown config.{key}={value!r}; choose one of {list(choices)}.")


def check_count(key: str, value, least: int, what: str, optional: bool = False) -> None:
    """``config.<key>`` must be an integer >= ``least`` (or None, when ``optional``)."""
    if optional and value is None:
        return
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= least):
        raise ConfigError(
            f"config.{key}={value!r} must be an integer >= {least} ({what}); set "
            f"--config.{key} to one."
        )


def check_real(key: str, value, what: str, *, above: float | None = None,
               least: float | None = None, most: float | None = None) -> None:
    """``config.<key>`` must be a finite number ``> above`` (or ``>= least``), and ``<= most``."""
    ok = is_number(value) and (above is None or value > above) and (least is None or value >= least)
    if not (ok and (most is None or value <= most)):
        bounds = [f"> {above}" if above is not None else f">= {least}"]
        bounds += [f"<= {most}"] if most is not None else []
        raise ConfigError(
            f"config.{key}={value!r} must be a finite number {' and '.join(bounds)} ({what}); set "
            f"--config.{key} to one."
        )


def unwritable(path: str) -> str | None:
    """Why the directory ``path`` cannot be created or written, or None if it can."""
    if "://" in path:  # a remote file system (gs://...): left to it
        return None
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.exists(path) and not os.path.isdir(path):
        return "is a file, not a directory"
    parent = path
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        return f"cannot be created: {parent!r} is a file"
    if not os.access(parent, os.W_OK | os.X_OK):
        return "is not writable" if parent == path else f"cannot be created in {parent!r}"
    return None
