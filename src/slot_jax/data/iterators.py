"""The input stream of a run: the tf.data pipeline or the in-memory source, per ``config.data.source``.

* ``"tfds"``: :mod:`slot_jax.data.pipeline` (every dataset; needs TensorFlow and TFDS);
* ``"memory"``: :mod:`slot_jax.data.memory` (procedural datasets; no TensorFlow);
* ``"auto"`` (default): ``"tfds"`` where TensorFlow is installed, else ``"memory"``.

Both give the same batch layout (:mod:`slot_jax.data.batching`) and a training stream that is a pure
function of ``(seed, step)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import ml_collections

from slot_jax.data.batching import Batch
from slot_jax.lib.quiet import installed

SOURCES = ("auto", "tfds", "memory")


def resolve_source(cfg: ml_collections.ConfigDict) -> str:
    """``"tfds"`` or ``"memory"``: the source ``config.data.source`` names, ``"auto"`` resolved."""
    source = cfg.get("source") or "auto"
    if source not in SOURCES:
        raise ValueError(f"Unknown config.data.source={source!r}; choose one of {list(SOURCES)}.")
    if source == "auto":
        return "tfds" if installed("tensorflow") else "memory"
    return source


def source_name(cfg: ml_collections.ConfigDict) -> str:
    """The resolved source as benchmarks report it: ``"tf.data"`` or ``"memory"``."""
    return "tf.data" if resolve_source(cfg) == "tfds" else "memory"


def _source(cfg: ml_collections.ConfigDict) -> ModuleType:
    if resolve_source(cfg) == "memory":
        from slot_jax.data import memory

        return memory
    from slot_jax.data import pipeline

    return pipeline


def train_iterator(
    cfg: ml_collections.ConfigDict, *, global_batch_size: int, seed: int, start_step: int = 0
) -> Iterator[Batch]:
    """An endless, deterministic stream of training batches, starting at ``start_step``."""
    return _source(cfg).train_iterator(
        cfg, global_batch_size=global_batch_size, seed=seed, start_step=start_step
    )


def eval_iterator(
    cfg: ml_collections.ConfigDict, *, global_batch_size: int, num_examples: int | None = None
) -> Iterator[Batch]:
    """Each held-out example exactly once; the last batch is padded and ``padding_mask`` marks it."""
    return _source(cfg).eval_iterator(
        cfg, global_batch_size=global_batch_size, num_examples=num_examples
    )
