"""What the command lines (``slot_jax.main``, ``slot_jax.benchmark``) share: the ``--config`` flag,
flag parsing with one-line errors, logging, and keeping TensorFlow (tf.data only) off accelerators."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags  # noqa: E402


def define_config_flag():
    """``--config=configs/<name>.py`` with ``--config.<key>=<value>`` overrides (ml_collections)."""
    flag = config_flags.DEFINE_config_file("config", None, "Training config file.", lock_config=True)
    flags.mark_flags_as_required(["config"])
    return flag


def hide_accelerators_from_tensorflow() -> None:
    """tf.data runs on the host; the accelerators belong to JAX."""
    import tensorflow as tf

    tf.config.set_visible_devices([], "GPU")
    try:
        tf.config.set_visible_devices([], "TPU")
    except (ValueError, RuntimeError):
        pass


def parse_flags(argv: list[str]) -> list[str]:
    """absl flag parsing with one-line errors (e.g. an override of a key the config lacks)."""
    overrides = " ".join(a for a in argv if a.startswith("--config."))
    unknown = (
        "error: a --config override names the unknown key {!r} (" + overrides + "); "
        "check its spelling against the config file."
    )
    try:
        return flags.FLAGS(argv)
    except (AttributeError, KeyError) as err:  # config_flags on an unknown key
        sys.exit(unknown.format(str(err).strip("\"'")))
    except flags.Error as err:
        match = re.search(r"flag '--?config\.([\w.]+)'|flag 'config\.([\w.]+)'", str(err))
        if match:
            sys.exit(unknown.format(match.group(1) or match.group(2)))
        sys.exit(f"error: {err}")


def _quiet_libraries(record) -> bool:
    """Keeps orbax's per-save INFO lines off the console (warnings and errors still show)."""
    if "Using custom data configuration" in str(record.msg):  # TFDS, for every sized config
        return False
    return record.levelno >= 30 or "orbax" not in record.pathname  # 30: Python WARNING


def run(main: Callable[[list[str]], None]) -> None:
    """``app.run(main)`` with INFO logging, the library filter and :func:`parse_flags`."""
    logging.set_verbosity(logging.INFO)
    logging.get_absl_handler().addFilter(_quiet_libraries)
    app.run(main, flags_parser=parse_flags)
