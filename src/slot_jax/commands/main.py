"""The training and evaluation command line, ``python -m slot_jax.main`` (its usage is in
:mod:`slot_jax.main`): the flags, and the run of ``--mode`` for ``--config`` in ``--workdir``."""

from __future__ import annotations

import functools
import os

from absl import app, flags, logging

from slot_jax.commands import cli
from slot_jax.commands.startup import prepare_process

# Environment variables that mean "this is one process of several".
_MULTIPROCESS_ENV = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES")


def _is_multiprocess() -> bool:
    if any(os.environ.get(k) for k in _MULTIPROCESS_ENV):
        return True
    for k in ("SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE"):
        if int(os.environ.get(k, "1") or 1) > 1:
            return True
    return "," in os.environ.get("TPU_WORKER_HOSTNAMES", "")


def define_flags() -> dict[str, flags.FlagHolder]:
    """The command's flags (defined on use, so importing this module defines none)."""
    args = {
        "config": cli.define_config_flag(),
        "workdir": flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs and outputs."),
        "mode": flags.DEFINE_enum("mode", "train", ["train", "eval"], "What to run."),
        "checkpoint_step": flags.DEFINE_integer(
            "checkpoint_step", None, "Checkpoint step to evaluate (default: the latest)."
        ),
    }
    flags.mark_flags_as_required(["workdir"])
    return args


def train_or_evaluate(args: dict[str, flags.FlagHolder], argv: list[str]) -> None:
    """Runs ``--mode`` for ``--config`` in ``--workdir``; config, path and data errors exit with one
    line, and every check runs before anything is compiled or generated. So do a failed save, a
    non-finite loss, checkpoints that do not restore and a workdir another trainer uses."""
    mode, checkpoint_step = args["mode"].value, args["checkpoint_step"].value
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {' '.join(argv[1:])}; flags look like --name=value.")
    if checkpoint_step is not None and mode != "eval":
        raise app.UsageError(
            f"--checkpoint_step={checkpoint_step} applies to --mode=eval only; drop it or "
            "add --mode=eval."
        )
    import jax

    if _is_multiprocess():
        jax.distributed.initialize()
    from slot_jax.evaluation.final_report import final_report
    from slot_jax.lib.checkpoint import CheckpointSaveError
    from slot_jax.lib.workdir_lock import WorkdirInUseError
    from slot_jax.train import ConfigError, NonFiniteLossError, evaluate, train
    from slot_jax.train.validate import validate_run

    logging.info("JAX %s: %d devices (%s), process %d of %d", jax.__version__, jax.device_count(),
                 jax.default_backend(), jax.process_index(), jax.process_count())
    config, workdir = args["config"].value, args["workdir"].value
    try:
        dataset = validate_run(config, workdir)  # every check, once: config.data resolved
        if mode == "train":
            state = train(config, workdir, dataset=dataset)
            if jax.process_index() == 0:
                for line in final_report(config, workdir, int(state.step), dataset):
                    print(line)
        else:
            print(evaluate(config, workdir, checkpoint_step, dataset)["line"])
    except (ConfigError, FileNotFoundError, CheckpointSaveError, NonFiniteLossError,
            WorkdirInUseError) as err:
        cli.fail(err)


def main() -> None:
    """``python -m slot_jax.main``: the process settings first, then the flags and the run."""
    prepare_process()
    cli.run(functools.partial(train_or_evaluate, define_flags()))
