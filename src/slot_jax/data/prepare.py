"""Prepares a dataset once: ``python -m slot_jax.data.prepare --dataset=NAME``.

Procedural datasets are generated (``--num_examples`` sets the training size); the DeepMind
multi-object datasets are converted from the files in ``--manual_dir``; ``clevr`` is downloaded by
TFDS (17.7 GiB).
"""

from __future__ import annotations

from absl import flags

from slot_jax import cli

_DATASET = flags.DEFINE_string("dataset", None, "Dataset name, e.g. procedural_multi_dsprites/simple.")
_NUM_EXAMPLES = flags.DEFINE_integer("num_examples", None, "Training examples (procedural only).")
_NUM_EVAL = flags.DEFINE_integer("num_eval", None, "Held-out examples (procedural and DeepMind).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data dir (default ~/tensorflow_datasets).")
_MANUAL_DIR = flags.DEFINE_string("manual_dir", None, "Folder with the downloaded .tfrecords files.")
flags.mark_flag_as_required("dataset")


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


def main(argv: list[str]) -> None:
    """Prepares ``--dataset`` and prints its splits; errors exit with one line."""
    del argv
    from slot_jax.data.sources import prepare_builder

    try:
        dataset = command_config(
            _DATASET.value, _NUM_EXAMPLES.value, _NUM_EVAL.value, _DATA_DIR.value, _MANUAL_DIR.value
        )
        builder = prepare_builder(dataset, download=True)
    except (ValueError, FileNotFoundError) as err:
        cli.fail(err)
    splits = {k: v.num_examples for k, v in builder.info.splits.items()}
    print(f"{builder.info.full_name} ready in {builder.data_dir}: {splits}")


if __name__ == "__main__":
    cli.run(main)
