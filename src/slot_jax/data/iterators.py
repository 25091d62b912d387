"""The input stream of a run: the tf.data pipeline or the in-memory source, per ``config.data.source``.

* ``"tfds"``: :mod:`slot_jax.data.pipeline` (every dataset; needs TensorFlow and TFDS);
* ``"memory"``: :mod:`slot_jax.data.memory` (procedural datasets; no TensorFlow);
* ``"auto"`` (default): ``"tfds"`` where TensorFlow is installed, else ``"memory"``.

Both take the run's :class:`slot_jax.data.dataset.Dataset` (or ``config.data``, resolved on the
call), give the same batch layout (:mod:`slot_jax.data.batching`) and a training stream that is a
pure function of ``(seed, step)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import ml_collections

from slot_jax.data.batching import Batch
from slot_jax.data.dataset import Dataset, resolve, resolve_source


def source_name(cfg: ml_collections.ConfigDict) -> str:
    """The resolved source as benchmarks report it: ``"tf.data"`` or ``"memory"``."""
    return "tf.data" if resolve_source(cfg) == "tfds" else "memory"


def _source(dataset: Dataset) -> ModuleType:
    if dataset.source == "memory":
        from slot_jax.data import memory

        return memory
    from slot_jax.data import pipeline

    return pipeline


def train_iterator(
    data: Dataset | ml_collections.ConfigDict, *, global_batch_size: int, seed: int,
    start_step: int = 0,
) -> Iterator[Batch]:
    """An endless, deterministic stream of training batches, starting at ``start_step``."""
    dataset = resolve(data)
    return _source(dataset).train_iterator(
        dataset, global_batch_size=global_batch_size, seed=seed, start_step=start_step
    )


def eval_iterator(
    data: Dataset | ml_collections.ConfigDict, *, global_batch_size: int,
    num_examples: int | None = None,
) -> Iterator[Batch]:
    """Each held-out example exactly once; the last batch is padded and ``padding_mask`` marks it."""
    dataset = resolve(data)
    return _source(dataset).eval_iterator(
        dataset, global_batch_size=global_batch_size, num_examples=num_examples
    )
