"""The command line that prepares a dataset once, ``python -m slot_jax.data.prepare`` (its usage is
in :mod:`slot_jax.data.prepare`): the flags, and :func:`command_config`, the dataset they
name, resolved."""

from __future__ import annotations

import functools

from absl import flags

from slot_jax.commands import cli
from slot_jax.commands.startup import prepare_process


def define_flags() -> dict[str, flags.FlagHolder]:
    """The command's flags (defined on use, so importing this module defines none)."""
    define_string, define_integer = flags.DEFINE_string, flags.DEFINE_integer
    args = {
        "name": define_string("dataset", None, "Dataset name, e.g. procedural_multi_dsprites/simple."),
        "num_examples": define_integer("num_examples", None, "Training examples (procedural only)."),
        "num_eval": define_integer("num_eval", None, "Held-out examples (procedural and DeepMind)."),
        "data_dir": define_string("data_dir", None, "TFDS data dir (default ~/tensorflow_datasets)."),
        "manual_dir": define_string("manual_dir", None, "Folder with the downloaded .tfrecords files."),
    }
    flags.mark_flag_as_required("dataset")
    return args


def command_config(
    name: str,
    num_examples: int | None = None,
    num_eval: int | None = None,
    data_dir: str | None = None,
    manual_dir: str | None = None,
):
    """The dataset the flags name, resolved (for :func:`slot_jax.data.sources.prepare_builder`)."""
    import ml_collections

    from slot_jax.data.dataset import resolve

    dataset = resolve(ml_collections.ConfigDict(
        dict(name=name, num_train=num_examples, num_eval=num_eval, data_dir=data_dir,
             manual_dir=manual_dir)
    ))
    if num_examples and not dataset.spec.procedural:
        raise ValueError(f"--num_examples only applies to procedural datasets, not {name!r}.")
    return dataset


def prepare(args: dict[str, flags.FlagHolder], argv: list[str]) -> None:
    """Prepares ``--dataset`` and prints its splits; errors exit with one line."""
    del argv
    from slot_jax.data.sources import prepare_builder

    try:
        dataset = command_config(**{key: flag.value for key, flag in args.items()})
        builder = prepare_builder(dataset, download=True)
    except (ValueError, FileNotFoundError) as err:
        cli.fail(err)
    splits = {k: v.num_examples for k, v in builder.info.splits.items()}
    print(f"{builder.info.full_name} ready in {builder.data_dir}: {splits}")


def main() -> None:
    """``python -m slot_jax.data.prepare``: the process settings first, then the flags and the run."""
    prepare_process()
    cli.run(functools.partial(prepare, define_flags()))
