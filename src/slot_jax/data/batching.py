"""What every input source shares: the batch type, the per-process batch size, eval padding."""

from __future__ import annotations

import jax
import numpy as np

Batch = dict[str, np.ndarray]

# The keys of a video example with a time axis (first in an example, second in a batch).
VIDEO_KEYS = ("video", "ids", "boxes", "centers")


def local_batch_size(global_batch: int) -> int:
    """This process's share of the global batch (each process reads its own shard of the data)."""
    n = jax.process_count()
    if global_batch % n:
        raise ValueError(f"The batch size {global_batch} is not divisible by {n} processes.")
    return global_batch // n


def example_count(batch: Batch) -> int:
    """The examples in a batch: the leading dimension its arrays share (``image`` or ``video``)."""
    return len(next(iter(batch.values())))


def pad_batch(batch: Batch, local: int) -> Batch:
    """A last, short evaluation batch padded with zeros to ``local`` examples, and ``padding_mask``
    bool ``[local]`` (False marks padding) added to every batch."""
    n = example_count(batch)
    mask = np.arange(local) < n
    if n < local:
        batch = {k: np.concatenate([v, np.zeros((local - n, *v.shape[1:]), v.dtype)])
                 for k, v in batch.items()}
    batch["padding_mask"] = mask
    return batch
