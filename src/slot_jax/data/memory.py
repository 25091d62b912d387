"""The in-memory source: procedural scenes generated into host memory, without TensorFlow.

For ``config.data.source="memory"`` (or ``"auto"`` where TensorFlow is not installed), on the
procedural datasets. Each split holds the same examples as the TFDS builders store (the same
generator, presets, seeds and split sizes; :mod:`slot_jax.data.procedural`), goes through the same
``config.data.max_objects`` filter and the same preprocessing as :mod:`slot_jax.data.pipeline`
(to [-1, 1], the dataset's crop, bilinear resize without antialiasing, clip; ids nearest-neighbour),
and comes out in the same batches: ``image`` float32 ``[b, H, W, 3]``, ``ids`` int32 ``[b, H, W]``
and, when evaluating, ``padding_mask`` bool ``[b]``; a video dataset's batches hold ``video``
float32 ``[b, T, H, W, 3]`` in place of ``image``, ``ids`` ``[b, T, H, W]``, ``boxes`` and ``centers``
(each frame preprocessed as an image); training batches hold random windows of
``config.data.train_frames`` frames when it is set. Set-prediction targets need the tf.data pipeline.

The training stream is a pure function of ``(seed, step)``, so a resumed run sees the batches an
uninterrupted run would: epoch ``e`` is a numpy permutation seeded by ``(seed, process, e)``, and
batches run on across epochs. It is not the tf.data stream's order. Scenes are generated once per
process (on all cores for large splits) and kept, preprocessed, for every later call.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import multiprocessing
import os
from collections.abc import Iterator

import jax
import ml_collections
import numpy as np
from absl import logging

from slot_jax.data.batching import VIDEO_KEYS, Batch, example_count, local_batch_size, pad_batch
from slot_jax.data.check import check_memory
from slot_jax.data.dataset import Dataset, resolve
from slot_jax.data.procedural import GENERATORS
from slot_jax.data.procedural.scene import SceneOptions, canonical_example
from slot_jax.data.registry import DatasetSpec

PARALLEL_FROM = 256  # examples; smaller splits are generated in this process
_RESIZE_CHUNK = 256


def scene_options(data: Dataset | ml_collections.ConfigDict) -> SceneOptions:
    """The generator options of a procedural dataset: its preset, with ``num_train``/``num_eval``."""
    dataset = resolve(data)
    check_memory(dataset)
    presets = GENERATORS[dataset.builder].PRESETS
    _, options = presets[dataset.variant or next(iter(presets))]
    cfg = dataset.config
    sizes = {k: int(cfg[k]) for k in ("num_train", "num_eval") if cfg.get(k)}
    return dataclasses.replace(options, **sizes)


def _generate(builder: str, options: SceneOptions, split: str, indices: range) -> list[dict]:
    generate = GENERATORS[builder].generate
    return [canonical_example(generate, options, split, i) for i in indices]


def generate_split(builder: str, options: SceneOptions, split: str, workers: int | None = None):
    """Every canonical example of ``split`` (``"train"``: ``num_train``, ``"test"``: ``num_eval``),
    in index order, on ``workers`` processes (default: every core, one for small splits)."""
    n = options.num_train if split == "train" else options.num_eval
    if workers is None:
        workers = (os.cpu_count() or 1) if n >= PARALLEL_FROM else 1
    if workers <= 1:
        return _generate(builder, options, split, range(n))
    bounds = np.linspace(0, n, 4 * workers + 1).astype(int)
    context = multiprocessing.get_context("spawn")  # JAX runs threads: no fork
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        ranges = [range(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        parts = pool.map(functools.partial(_generate, builder, options, split), ranges)
        return [ex for part in parts for ex in part]


def _count(spec: DatasetSpec, example: dict) -> int:
    """``spec.count_objects`` in numpy."""
    if spec.count_by == "coords":
        return len(example["objects"]["3d_coords"])
    return int(np.count_nonzero(np.unique(example["ids"])))


def _resize(x: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    """``[N, H, W, C]`` -> ``[N, h, w, C]`` as ``tf.image.resize`` (no antialiasing), on the CPU."""
    if tuple(x.shape[1:3]) == tuple(size):
        return x
    cpu = jax.devices("cpu")[0]
    out = []
    for start in range(0, len(x), _RESIZE_CHUNK):
        chunk = jax.device_put(x[start:start + _RESIZE_CHUNK], cpu)
        shape = (len(chunk), *size, x.shape[-1])
        out.append(np.asarray(jax.image.resize(chunk, shape, method, antialias=False)))
    return np.concatenate(out) if out else np.zeros((0, *size, x.shape[-1]), x.dtype)


def preprocess(examples: list[dict], dataset: Dataset) -> Batch:
    """Canonical examples -> ``image`` float32 ``[N, h, w, 3]`` in [-1, 1] and ``ids`` int32
    ``[N, h, w]``, as :func:`slot_jax.data.preprocess.crop_resize_scale` and ``crop_resize_ids``;
    videos -> ``video`` ``[N, T, h, w, 3]`` and ``ids`` ``[N, T, h, w]`` (frame by frame), with
    their ``boxes`` and ``centers``."""
    y0, y1, x0, x1 = dataset.crop or (0, None, 0, None)
    size = dataset.image_size
    key = "video" if dataset.video else "image"
    frames = np.stack([ex[key] for ex in examples])  # [N, (T,) H, W, 3]
    lead = frames.shape[:-3]
    images = frames.reshape(-1, *frames.shape[-3:]).astype(np.float32) / 255.0 * 2.0 - 1.0
    images = _resize(images[:, y0:y1, x0:x1], size, "linear").reshape(*lead, *size, 3)
    ids = np.stack([ex["ids"] for ex in examples]).astype(np.int32)
    ids = ids.reshape(-1, *ids.shape[-3:])[:, y0:y1, x0:x1]
    ids = _resize(ids, size, "nearest").reshape(*lead, *size).astype(np.int32)
    out = {key: np.clip(images, -1.0, 1.0), "ids": ids}
    if dataset.video:
        out.update({k: np.stack([ex[k] for ex in examples]) for k in ("boxes", "centers")})
    return out


@functools.lru_cache(maxsize=4)  # keyed by the dataset's value: equal configs share it
def _split_arrays(dataset: Dataset, split: str, process: int, processes: int) -> Batch:
    options = scene_options(dataset)
    count = options.num_train if split == "train" else options.num_eval
    kind = "videos" if dataset.video else "images"
    logging.info("Generating %s %s: %d %s, in memory.", dataset.name, split, count, kind)
    examples = generate_split(dataset.builder, options, split)
    most = dataset.config.get("max_objects")
    if most:
        examples = [ex for ex in examples if _count(dataset.spec, ex) <= int(most)]
    return preprocess(examples[process::processes], dataset) if examples else {}


def split_arrays(data: Dataset | ml_collections.ConfigDict, split: str) -> Batch:
    """This process's preprocessed examples of ``split`` (generated once, then cached)."""
    dataset = resolve(data)
    arrays = _split_arrays(dataset, split, jax.process_index(), jax.process_count())
    if not arrays or not example_count(arrays):
        raise ValueError(f"Dataset {dataset.name!r} has no {split} examples after filtering.")
    return arrays


def train_iterator(
    data: Dataset | ml_collections.ConfigDict, *, global_batch_size: int, seed: int,
    start_step: int = 0,
) -> Iterator[Batch]:
    """An endless, deterministic stream of training batches, starting at ``start_step``."""
    local = local_batch_size(global_batch_size)
    dataset = resolve(data)
    arrays = split_arrays(dataset, dataset.train_split)
    n = example_count(arrays)

    @functools.lru_cache(maxsize=2)
    def permutation(epoch: int) -> np.ndarray:
        return np.random.default_rng([int(seed), jax.process_index(), epoch]).permutation(n)

    step = start_step
    while True:
        epochs, offsets = np.divmod(step * local + np.arange(local), n)
        rows = np.array([permutation(int(e))[o] for e, o in zip(epochs, offsets, strict=True)])
        batch = {k: v[rows] for k, v in arrays.items()}
        if dataset.train_frames:
            rng = np.random.default_rng([int(seed), jax.process_index(), 0, step])
            batch = random_windows(batch, dataset.train_frames, rng)
        yield batch
        step += 1


def random_windows(batch: Batch, length: int, rng: np.random.Generator) -> Batch:
    """``length`` consecutive frames of each video of a batch, from a start drawn uniformly; every
    key with a time axis gets the example's same window."""
    b, frames = batch["video"].shape[:2]
    starts = rng.integers(0, frames - length + 1, size=b)
    rows, times = np.arange(b)[:, None], starts[:, None] + np.arange(length)
    return {k: v[rows, times] if k in VIDEO_KEYS else v for k, v in batch.items()}


def eval_iterator(
    data: Dataset | ml_collections.ConfigDict, *, global_batch_size: int,
    num_examples: int | None = None,
) -> Iterator[Batch]:
    """Each held-out example exactly once; the last batch is padded and ``padding_mask`` marks it."""
    local = local_batch_size(global_batch_size)
    dataset = resolve(data)
    arrays = split_arrays(dataset, dataset.eval_split)
    total = example_count(arrays)
    n = total if num_examples is None else min(num_examples, total)
    for start in range(0, n, local):
        yield pad_batch({k: v[start:min(start + local, n)] for k, v in arrays.items()}, local)
