"""Evaluation: segmentation metrics and MSE over a held-out split, JSON and PNG outputs.

``evaluate`` backs ``python -m slot_jax.main --mode=eval``; :func:`make_evaluator` is shared with
the periodic evaluation during training. Every held-out example counts exactly once: the last batch
is padded and its padding is masked out. Per-image values are gathered from every device before
averaging, so results do not depend on the number of devices.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging

from slot_jax.builder import build_model
from slot_jax.data.pipeline import eval_iterator
from slot_jax.data.registry import get_spec, split_name
from slot_jax.train import abstract_state, checkpoint
from slot_jax.train.images import log_images
from slot_jax.train.logger import Logger
from slot_jax.train.parallel import DataParallel
from slot_jax.train.tasks import eval_outputs, summarize
from slot_jax.train.validate import validate_config
from slot_jax.visualize import save_png

EVAL_KEY_SALT = 0x5EED


def _num_true_ids(config: ml_collections.ConfigDict) -> int:
    """Static size of the true-id axis: the most objects per image plus the background."""
    spec = get_spec(config.data.name)
    most = spec.most_objects(split_name(config.data.name)[1]) or 15
    return most + 1


def make_eval_step(model: nn.Module, config: ml_collections.ConfigDict, axis_name: str | None):
    """``eval_step(params, batch, rng) -> per-image outputs [b, ...]`` plus the padding mask."""
    arch = config.model.architecture
    num_true = _num_true_ids(config) if get_spec(config.data.name).has_ids else None
    outputs = eval_outputs(arch, num_true)

    def eval_step(params: Any, batch: dict, rng: jax.Array) -> dict[str, jnp.ndarray]:
        return {**outputs(model, params, batch, rng, axis_name), "padding_mask": batch["padding_mask"]}

    return eval_step


def make_evaluator(
    config: ml_collections.ConfigDict, model: nn.Module, par: DataParallel
) -> Callable[[Any, jax.Array], tuple[dict, dict]]:
    """Compiles the eval step once; returns ``evaluate(params, key) -> (summary, first_batch)``."""
    step = par.compile(make_eval_step(model, config, par.axis_name), donate_state=False)
    batch_size = config.eval_batch_size

    def run(params: Any, key: jax.Array) -> tuple[dict, dict]:
        params = par.replicate(params)
        key = jax.random.fold_in(key, EVAL_KEY_SALT)
        chunks, first = [], None
        batches = eval_iterator(
            config.data, global_batch_size=batch_size, num_examples=config.data.get("eval_examples")
        )
        for i, batch in enumerate(batches):
            first = first or batch
            metrics = step(params, par.shard_batch(batch), jax.random.fold_in(key, i))
            chunks.append(jax.device_get(par.gather(metrics)))
        if not chunks:
            raise ValueError(f"The evaluation split of {config.data.name!r} is empty.")
        per_image = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
        return summarize(per_image), first

    return run


def write_results(workdir: str, step: int, summary: dict) -> str:
    """Writes ``<workdir>/eval/metrics_<step>.json`` atomically; returns its path."""
    path = os.path.join(workdir, "eval", f"metrics_{step}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump({"step": step, "metrics": summary}, f, indent=2)
    os.replace(path + ".tmp", path)
    return path


def summary_line(step: int, summary: dict) -> str:
    """One console line: each metric's mean ± standard error, and the image count."""
    parts = [f"{k} {v['mean']:.4f} ± {v['sem']:.4f}" for k, v in summary.items()]
    n = max(v["num_images"] for v in summary.values())
    return f"eval step {step} ({n} images): " + " | ".join(parts)


def evaluate(
    config: ml_collections.ConfigDict, workdir: str, checkpoint_step: int | None = None
) -> dict:
    """Restores a checkpoint of ``workdir`` and evaluates the whole held-out split once."""
    validate_config(config)
    if not os.path.isdir(checkpoint.checkpoint_dir(workdir)):
        raise FileNotFoundError(
            f"No checkpoints in workdir {os.path.abspath(workdir)!r}; train first with "
            f"--mode=train --workdir={workdir}."
        )
    par = DataParallel(config.parallelism)
    model = build_model(config.model, config.dtype)
    manager = checkpoint.make_manager(workdir, config.keep_checkpoints, read_only=True)
    state = checkpoint.restore(manager, abstract_state(config, model), checkpoint_step)
    manager.close()
    step, key = int(state.step), state.key
    summary, first = make_evaluator(config, model, par)(state.params, key)
    path = write_results(workdir, step, summary)
    if jax.process_index() == 0:
        logger = Logger(workdir, "eval")
        if config.model.architecture == "autoencoder":
            grid = log_images(logger, model, state.params, first["image"], key, step)
            save_png(grid, os.path.join(workdir, "eval", f"slots_{step}.png"))
        logger.scalars(step, {k: v["mean"] for k, v in summary.items()})
        logger.close()
    line = summary_line(step, summary)
    logging.info("%s -> %s", line, path)
    print(line)
    return {"step": step, "metrics": summary, "path": path}
