"""Command line: ``python -m slot_jax.main --config=configs/<name>.py --workdir=DIR [--mode=...]``.

``--config.<key>=<value>`` overrides any config entry (ml_collections ``config_flags``).
"""

from __future__ import annotations

import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file("config", None, "Training config file.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs and outputs.")
_MODE = flags.DEFINE_enum("mode", "train", ["train", "eval"], "What to run.")
_CHECKPOINT_STEP = flags.DEFINE_integer(
    "checkpoint_step", None, "Checkpoint step to evaluate (default: the latest)."
)
flags.mark_flags_as_required(["config", "workdir"])

# Environment variables that mean "this is one process of several".
_MULTIPROCESS_ENV = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES")


def _is_multiprocess() -> bool:
    if any(os.environ.get(k) for k in _MULTIPROCESS_ENV):
        return True
    for k in ("SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE"):
        if int(os.environ.get(k, "1") or 1) > 1:
            return True
    return "," in os.environ.get("TPU_WORKER_HOSTNAMES", "")


def _hide_accelerators_from_tensorflow() -> None:
    import tensorflow as tf

    tf.config.set_visible_devices([], "GPU")
    try:
        tf.config.set_visible_devices([], "TPU")
    except (ValueError, RuntimeError):
        pass


def main(argv: list[str]) -> None:
    """Runs ``--mode`` for ``--config`` in ``--workdir``; config and data errors exit with one line."""
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    _hide_accelerators_from_tensorflow()
    import jax

    if _is_multiprocess():
        jax.distributed.initialize()
    from slot_jax.train.validate import ConfigError

    logging.info("JAX %s: %d devices (%s), process %d of %d", jax.__version__, jax.device_count(),
                 jax.default_backend(), jax.process_index(), jax.process_count())
    try:
        if _MODE.value == "train":
            from slot_jax.train.loop import train

            train(_CONFIG.value, _WORKDIR.value)
        else:
            from slot_jax.evaluate import evaluate

            evaluate(_CONFIG.value, _WORKDIR.value, _CHECKPOINT_STEP.value)
    except (ConfigError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")


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


def run() -> None:
    """The console entry point (``python -m slot_jax.main``)."""
    logging.set_verbosity(logging.INFO)
    logging.get_absl_handler().addFilter(_quiet_libraries)
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
