"""A dataset's prepared TFDS builder: procedural sets are generated on demand."""

from __future__ import annotations

import os

import ml_collections
import tensorflow_datasets as tfds

from slot_jax.data.dataset import Dataset, resolve


def data_dir(dataset: Dataset) -> str | None:
    """``config.data.data_dir``, or TFDS' default (``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``)."""
    cfg = dataset.config
    return os.path.expanduser(cfg.data_dir) if cfg.get("data_dir") else None


def make_builder(data: Dataset | ml_collections.ConfigDict) -> tfds.core.DatasetBuilder:
    """The TFDS builder of a dataset (:func:`slot_jax.data.dataset.resolve`), not prepared yet."""
    import slot_jax.data  # noqa: F401  (registers the builders)

    dataset = resolve(data)
    spec, cfg = dataset.spec, dataset.config
    builder_name, config_name = dataset.builder, dataset.variant
    sizes = {k: cfg.get(k) for k in ("num_train", "num_eval") if cfg.get(k)}
    if spec.manual and sizes.get("num_eval"):  # hold out another number of records
        from slot_jax.data.multi_object import holdout_config

        cls = tfds.builder_cls(builder_name)
        config_name = config_name or cls.BUILDER_CONFIGS[0].name
        config = holdout_config(cls, config_name, sizes["num_eval"])
        return tfds.builder(builder_name, config=config, data_dir=data_dir(dataset))
    if spec.procedural and sizes:
        from slot_jax.data.procedural.base import sized_config

        cls = tfds.builder_cls(builder_name)
        config_name = config_name or cls.BUILDER_CONFIGS[0].name
        config = sized_config(cls, config_name, sizes.get("num_train"), sizes.get("num_eval"))
        return tfds.builder(builder_name, config=config, data_dir=data_dir(dataset))
    if spec.external:
        try:
            return tfds.builder(dataset.name, data_dir=data_dir(dataset))
        except tfds.core.registered.DatasetNotFoundError:
            raise FileNotFoundError(_missing_copy(dataset)) from None
    return tfds.builder(dataset.name, data_dir=data_dir(dataset))


def _missing_copy(dataset: Dataset) -> str:
    """The one line that says a dataset read from a prepared copy (``DatasetSpec.external``) is not
    in the data dir, and where to copy it from."""
    source, cfg = dataset.spec.external, dataset.config
    where = f"config.data.data_dir={cfg.data_dir!r}" if cfg.get("data_dir") else (
        "the TFDS data dir (default; set config.data.data_dir)")
    folder = f"{dataset.builder}/{dataset.variant or '<config>'}"
    return (
        f"{dataset.name!r} is not prepared in {where} and cannot be downloaded here: copy it from "
        f"{source} (gsutil -m cp -r {source}/{folder} <data_dir>/{dataset.builder}/) and set "
        "config.data.data_dir=<data_dir>."
    )


def prepare_builder(
    data: Dataset | ml_collections.ConfigDict, *, download: bool = False
) -> tfds.core.DatasetBuilder:
    """Prepares a dataset (``config.data``, or its :class:`slot_jax.data.dataset.Dataset`) if
    needed and returns its builder.

    Procedural datasets are generated (with a progress bar); the DeepMind multi-object datasets are
    converted from the files in ``config.data.manual_dir``; MOVi is only read from a prepared copy
    in ``config.data.data_dir`` (a missing one is a one-line FileNotFoundError saying where to
    copy it from). A dataset that TFDS downloads (CLEVR,
    17.7 GiB) is only downloaded with ``download=True``, as ``python -m slot_jax.data.prepare`` does;
    otherwise an unprepared one is a FileNotFoundError that names that command.
    """
    dataset = resolve(data)
    spec, cfg = dataset.spec, dataset.config
    builder = make_builder(dataset)
    if spec.external:
        if not builder.is_prepared():
            raise FileNotFoundError(_missing_copy(dataset))
        return builder
    if spec.manual:
        manual = os.path.expanduser(cfg.manual_dir) if cfg.get("manual_dir") else None
        return _prepare(dataset, builder, tfds.download.DownloadConfig(manual_dir=manual))
    if spec.procedural or download:
        return _prepare(dataset, builder)
    if not builder.is_prepared():
        raise FileNotFoundError(
            f"TFDS dataset {cfg.name!r} is not prepared in {builder.data_dir!r}. Prepare it once "
            f"with: python -m slot_jax.data.prepare --dataset={cfg.name}"
            + (f" --data_dir={cfg.data_dir}" if cfg.get("data_dir") else "")
            + " (downloads the dataset)."
        )
    return builder


def _prepare(
    dataset: Dataset,
    builder: tfds.core.DatasetBuilder,
    download_config: tfds.download.DownloadConfig | None = None,
) -> tfds.core.DatasetBuilder:
    """``builder.download_and_prepare``, where another process preparing the same dataset in the
    same folder at the same time (two trainers started together) is not an error: TFDS writes into
    a temporary folder and renames it, and the second rename fails once the first has landed."""
    try:
        builder.download_and_prepare(download_config=download_config)
    except FileExistsError:
        finished = make_builder(dataset)  # a new builder reads the dataset the other process wrote
        if not finished.is_prepared():
            raise
        return finished
    return builder
