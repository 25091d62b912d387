"""Importing TensorFlow (tf.data and TFDS only) without its start-up notices on the console, where it
is installed (:func:`installed`): training on procedural data needs no TensorFlow."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# What TensorFlow's C++ logging prints while it loads, before absl's log is initialised: that notice
# itself, then lines such as "I0000 00:00:1700000000.000000 123 port.cc:153] oneDNN custom
# operations are on...", which TF_CPP_MIN_LOG_LEVEL does not reach.
_PREINIT_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called"
_CPP_LOG_LINE = re.compile(r"([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^\s\]]+:\d+\] ")
_SEVERITIES = "IWEF"


def _shown(line: str, min_level: int) -> bool:
    """Whether a line TensorFlow printed while importing passes ``TF_CPP_MIN_LOG_LEVEL``."""
    if min_level > 0 and line.startswith(_PREINIT_NOTICE):
        return False
    match = _CPP_LOG_LINE.match(line)
    return not match or _SEVERITIES.index(match.group(1)) >= min_level


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def import_quietly(module: str) -> None:
    """Imports ``module`` (TensorFlow), holding back what it prints to stderr (file descriptor 2)
    meanwhile and writing that out again without the C++ log lines below ``TF_CPP_MIN_LOG_LEVEL``
    (2 here: errors only) and absl's pre-initialisation notice. Everything else, Python warnings
    included, is kept.

    TensorFlow 2.21 logs its oneDNN notice through absl before absl's log is set up, where neither
    TF_CPP_MIN_LOG_LEVEL nor any other setting applies; ``TF_ENABLE_ONEDNN_OPTS=0`` would silence it
    but changes the numerics.
    """
    if module in sys.modules:
        return
    try:
        min_level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL") or 0)
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no fd 2, or an unreadable level
        importlib.import_module(module)
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            importlib.import_module(module)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            text = held.read().decode(errors="replace")
            sys.stderr.write("".join(
                line for line in text.splitlines(keepends=True) if _shown(line, min_level)
            ))
            sys.stderr.flush()
