"""The tf.data input pipeline, for every dataset: shard, shuffle, repeat, batch, numpy out.

Batches are dicts of numpy arrays, per process:

* ``image`` float32 ``[b, H, W, 3]`` in [-1, 1];
* ``ids`` int32 ``[b, H, W]`` (0 = background) where the dataset has masks;
* ``targets`` float32 ``[b, max_set_size, 19]`` with ``config.data.targets = "set_prediction"``
  (see :mod:`slot_jax.data.targets`);
* ``padding_mask`` bool ``[b]`` (evaluation only): False marks padding in the last batch.

A video dataset (``Dataset.video``) has ``video`` float32 ``[b, T, H, W, 3]`` in place of ``image``,
``ids`` int32 ``[b, T, H, W]``, ``boxes`` float32 ``[b, T, max_objects, 4]`` and ``centers`` float32
``[b, T, max_objects, 2]`` (see :mod:`slot_jax.data.registry`); each frame is preprocessed as an image.
Training batches hold random windows of ``config.data.train_frames`` frames when it is set
(:func:`slot_jax.data.preprocess.random_window`); evaluation batches hold whole videos.

``b`` is the global batch size divided by ``jax.process_count()``; each process reads its own shard.

The training stream is a pure function of ``(seed, step)``: epoch ``e`` is the (cached) dataset
shuffled with a seed derived from ``(seed, e)``. Resuming at ``start_step`` starts at the right epoch
and skips within it, so a restarted run sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Iterator

import jax
import ml_collections
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from slot_jax.data.batching import Batch, local_batch_size, pad_batch
from slot_jax.data.check import check_targets
from slot_jax.data.dataset import Dataset, resolve
from slot_jax.data.preprocess import crop_resize_ids, crop_resize_scale, random_window
from slot_jax.data.sources import prepare_builder
from slot_jax.data.targets import set_prediction_targets

_EPOCH_SEED_STRIDE = 1_000_003


def _split(builder: tfds.core.DatasetBuilder, split: str) -> str:
    available = set(builder.info.splits.keys())
    base = split.split("[")[0]
    if base not in available:
        raise ValueError(
            f"Dataset {builder.name!r} has no split {base!r}; available: {sorted(available)}."
        )
    if jax.process_count() == 1:
        return split
    return tfds.split_for_jax_process(split)


def _preprocess_fn(dataset: Dataset):
    check_targets(dataset)
    size, crop, targets = dataset.image_size, dataset.crop, dataset.targets

    def fn(example: dict) -> dict:
        key = "video" if dataset.video else "image"
        out = {key: crop_resize_scale(example[key], crop, size)}
        if dataset.has_ids:
            out["ids"] = crop_resize_ids(example["ids"], crop, size)
        if dataset.video:
            out.update(boxes=example["boxes"], centers=example["centers"])
        if targets:
            out["targets"] = set_prediction_targets(example["objects"], dataset.config.max_set_size)
        return out

    return fn


def _base_dataset(dataset: Dataset, train: bool) -> tuple[tf.data.Dataset, int | None]:
    """The preprocessed, unbatched, unshuffled examples of this process, and their count if known."""
    spec, cfg = dataset.spec, dataset.config
    builder = prepare_builder(dataset)
    split = _split(builder, dataset.train_split if train else dataset.eval_split)
    decoders = tfds.decode.PartialDecoding(spec.decode) if spec.decode else None
    ds = builder.as_dataset(split=split, shuffle_files=False, decoders=decoders)
    ds = ds.map(spec.canonical, num_parallel_calls=tf.data.AUTOTUNE)
    count = None
    if cfg.get("max_objects"):
        limit = int(cfg.max_objects)
        ds = ds.filter(lambda ex: spec.count_objects(ex) <= limit)
    else:
        count = builder.info.splits[split].num_examples
    ds = ds.map(_preprocess_fn(dataset), num_parallel_calls=tf.data.AUTOTUNE)
    if cfg.get("cache", True):
        ds = ds.cache()
    return ds, count


def _options(ds: tf.data.Dataset) -> tf.data.Dataset:
    options = tf.data.Options()
    options.deterministic = True
    options.experimental_optimization.map_parallelization = True
    return ds.with_options(options)


def train_iterator(
    data: Dataset | ml_collections.ConfigDict, *, global_batch_size: int, seed: int,
    start_step: int = 0,
) -> Iterator[Batch]:
    """An endless, deterministic stream of training batches, starting at ``start_step``."""
    dataset = resolve(data)
    local = local_batch_size(global_batch_size)
    base, count = _base_dataset(dataset, train=True)
    start_epoch, offset = 0, 0
    if start_step:
        if count is None:
            count = int(base.reduce(np.int64(0), lambda c, _: c + 1))
        if count == 0:
            raise ValueError(f"Dataset {dataset.name!r} has no training examples after filtering.")
        start_epoch, offset = divmod(start_step * local, count)
    buffer = int(dataset.config.get("shuffle_buffer", 10_000))
    seed = int(seed) * _EPOCH_SEED_STRIDE + jax.process_index()
    window = dataset.train_frames

    def epoch(e: tf.Tensor) -> tf.data.Dataset:
        epoch_seed = tf.cast(seed, tf.int64) * _EPOCH_SEED_STRIDE + e
        ds = base.shuffle(buffer, seed=epoch_seed, reshuffle_each_iteration=False)
        if not window:
            return ds
        return ds.enumerate().map(  # the window of example i of epoch e: seeded by (e, i)
            lambda i, ex: random_window(ex, window, tf.stack([epoch_seed, i])),
            num_parallel_calls=tf.data.AUTOTUNE,
        )

    ds = tf.data.Dataset.range(start_epoch, 2**62).flat_map(epoch)
    ds = ds.skip(offset).batch(local, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    return iter(tfds.as_numpy(_options(ds)))


def eval_iterator(
    data: Dataset | ml_collections.ConfigDict, *, global_batch_size: int,
    num_examples: int | None = None,
) -> Iterator[Batch]:
    """Each held-out example exactly once; the last batch is padded and ``padding_mask`` marks it."""
    local = local_batch_size(global_batch_size)
    ds, _ = _base_dataset(resolve(data), train=False)
    if num_examples is not None:
        ds = ds.take(num_examples)
    ds = _options(ds.batch(local, drop_remainder=False).prefetch(tf.data.AUTOTUNE))
    for batch in tfds.as_numpy(ds):
        yield pad_batch(batch, local)
