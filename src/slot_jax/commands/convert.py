"""The command line that converts an official TF2 checkpoint, ``python -m slot_jax.convert`` (its
usage is in :mod:`slot_jax.convert`): the flags and the conversion."""

from __future__ import annotations

import functools

from absl import app, flags
from ml_collections import config_flags

from slot_jax.commands import cli
from slot_jax.commands.startup import prepare_process


def define_flags() -> dict[str, flags.FlagHolder]:
    """The command's flags (defined on use, so importing this module defines none)."""
    args = {
        "config": cli.define_config_flag(),
        "tf_checkpoint": flags.DEFINE_string(
            "tf_checkpoint", None, "The official checkpoint: a prefix (DIR/ckpt-500) or its directory."
        ),
        "workdir": flags.DEFINE_string("workdir", None, "Directory to write the orbax checkpoint into."),
        "step": flags.DEFINE_integer(
            "step", None, "Step of the written checkpoint (default: the TF checkpoint's global_step; "
            "0 to fine-tune on a fresh learning-rate schedule)."
        ),
    }
    flags.mark_flags_as_required(["tf_checkpoint", "workdir"])
    return args


def convert(args: dict[str, flags.FlagHolder], argv: list[str]) -> None:
    """Converts ``--tf_checkpoint`` for ``--config`` into ``--workdir``; a bad path, config or
    checkpoint exits with one ``error:`` line."""
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {' '.join(argv[1:])}; flags look like --name=value.")
    from slot_jax.tf_checkpoint import ConversionError, TFCheckpointError
    from slot_jax.train import ConfigError, convert_tf_checkpoint

    config, workdir, tf_checkpoint = (args["config"].value, args["workdir"].value,
                                      args["tf_checkpoint"].value)
    try:  # the config and the workdir are checked first, once
        done = convert_tf_checkpoint(tf_checkpoint, config, workdir, args["step"].value)
    except (ConfigError, ConversionError, TFCheckpointError, FileNotFoundError,
            FileExistsError) as err:
        cli.fail(err)
    step = "none" if done["global_step"] is None else done["global_step"]
    config_file = config_flags.get_config_filename(flags.FLAGS["config"])
    print(f"Wrote {done['path']}: {done['parameters']} weights of {tf_checkpoint} "
          f"(TF global_step {step}). Evaluate it with: python -m slot_jax.main "
          f"--config={config_file} --workdir={workdir} --mode=eval")


def main() -> None:
    """``python -m slot_jax.convert``: the process settings first, then the flags and the run."""
    prepare_process()
    cli.run(functools.partial(convert, define_flags()))
