"""Importing TensorFlow (tf.data and TFDS only) without its start-up notices on the console, where it
is installed (:func:`installed`): training on procedural data needs no TensorFlow.

Nothing here sets ``TF_CPP_MIN_LOG_LEVEL``: the command lines default it to 2 before TensorFlow
loads (:func:`slot_jax.commands.startup.prepare_process`), which also quiets TensorFlow's C++ log
lines after the import.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator

# What TensorFlow's C++ logging prints while it loads, before absl's log is initialised: that notice
# itself, then lines such as "I0000 00:00:1700000000.000000 123 port.cc:153] oneDNN custom
# operations are on...", which TF_CPP_MIN_LOG_LEVEL does not reach.
_PREINIT_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called"
_CPP_LOG_LINE = re.compile(r"([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^\s\]]+:\d+\] ")
_SEVERITIES = "IWEF"
# What TensorFlow's CUDA build logs, as an error, when it looks for GPUs on a machine without one.
_NO_GPU = "failed call to cuInit"


def _shown(line: str, min_level: int) -> bool:
    """Whether a line TensorFlow printed while importing passes ``TF_CPP_MIN_LOG_LEVEL``."""
    if min_level > 0 and line.startswith(_PREINIT_NOTICE):
        return False
    match = _CPP_LOG_LINE.match(line)
    return not match or _SEVERITIES.index(match.group(1)) >= min_level


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def _level() -> int:
    """``TF_CPP_MIN_LOG_LEVEL``, 2 (errors only) where unset; an unreadable value counts as 0
    (show everything)."""
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL") or 2)
    except ValueError:
        return 0


@contextlib.contextmanager
def held_stderr(shown: Callable[[str], bool]) -> Iterator[None]:
    """Holds back what is written to stderr (file descriptor 2, so C++ output too) inside the block,
    then writes out again only the lines for which ``shown(line)`` is true. Without a usable fd 2
    it does nothing."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            text = held.read().decode(errors="replace")
            sys.stderr.write("".join(line for line in text.splitlines(keepends=True) if shown(line)))
            sys.stderr.flush()


def import_quietly(module: str) -> None:
    """Imports ``module`` (TensorFlow), holding back what it prints to stderr meanwhile and writing
    that out again without the C++ log lines below ``TF_CPP_MIN_LOG_LEVEL`` (2, errors only, unless
    set) and absl's pre-initialisation notice. Everything else, Python warnings included, is kept.

    TensorFlow 2.21 logs its oneDNN notice through absl before absl's log is set up, where neither
    TF_CPP_MIN_LOG_LEVEL nor any other setting applies; ``TF_ENABLE_ONEDNN_OPTS=0`` would silence it
    but changes the numerics.
    """
    if module in sys.modules:
        return
    min_level = _level()
    with held_stderr(lambda line: _shown(line, min_level)):
        importlib.import_module(module)


def without_accelerators(tf_module) -> None:
    """Hides every GPU and TPU from TensorFlow (``tf_module``): tf.data runs on the host, and the
    accelerators belong to JAX. On a machine without a GPU, TensorFlow's CUDA build logs "failed call
    to cuInit" as an error while it looks; that line is held back unless ``TF_CPP_MIN_LOG_LEVEL=0``.
    """
    verbose = _level() == 0
    with held_stderr(lambda line: verbose or _NO_GPU not in line):
        tf_module.config.set_visible_devices([], "GPU")
        try:
            tf_module.config.set_visible_devices([], "TPU")
        except (ValueError, RuntimeError):
            pass
