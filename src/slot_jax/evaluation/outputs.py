"""The per-image evaluation outputs of the paper's two tasks, chosen by ``config.model.architecture``.

* ``autoencoder`` (object discovery): segmentation metrics of the alpha masks against the true ids
  (where the dataset has them), plus per-image reconstruction MSE.
* ``savi`` (video object discovery): the same per video, over whole videos run in chunks, the
  segmentation metrics pooled over the clip, and for a conditional model the track consistency.
* ``set_prediction`` (property prediction): the per-image matched loss, and the raw predictions and
  targets, from which :func:`slot_jax.evaluation.summary.summarize` computes AP over the whole set.

Each function is ``outputs(model, params, batch, rng, axis_name) -> dict of per-image arrays [b, ...]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from slot_jax.data.dataset import Dataset
from slot_jax.evaluation.collapse import foreground_usage, mask_usage
from slot_jax.evaluation.metrics import contingency_table, ids_from_masks, metrics_from_table
from slot_jax.evaluation.video_metrics import clip_masks, track_consistency
from slot_jax.lib.forward import forward, video_forward
from slot_jax.lib.losses import match, matched_cost, pairwise_huber_cost


def autoencoder_outputs(num_true: int | None) -> Callable:
    """Per-image ``mse``, the collapse diagnostics (:mod:`slot_jax.evaluation.collapse`) and, when
    ``num_true`` (ids per image + 1) is given, the segmentation metrics."""

    def outputs(model, params, batch, rng, axis_name) -> dict[str, jnp.ndarray]:
        image = batch["image"]
        out = forward(model, params, image, rng, axis_name)
        err = (out["recon"].astype(jnp.float32) - image.astype(jnp.float32)) ** 2
        pred_ids = ids_from_masks(out["masks"])
        foreground = None if num_true is None else batch["ids"] > 0
        metrics = {"mse": jnp.mean(err, axis=(1, 2, 3)),
                   **mask_usage(out["masks"], pred_ids, foreground)}
        if num_true is not None:
            table = contingency_table(batch["ids"], pred_ids, num_true, out["masks"].shape[1])
            metrics.update({**metrics_from_table(table), **foreground_usage(table)})
        return metrics

    return outputs


def video_in_chunks(
    model, params, batch, rng, axis_name, slice_size: int | None,
    keys: tuple[str, ...] = ("recon", "masks"),
) -> dict[str, jnp.ndarray]:
    """A video model's outputs ``keys`` (each ``[b, T, ...]``) for the whole of ``batch["video"]``,
    run in chunks of ``slice_size`` frames (None: at once; SAVi's ``eval_slice_size``), each chunk
    starting from the previous one's ``next_slots``."""
    video = batch["video"]
    frames = video.shape[1]
    step = slice_size or frames
    slots, chunks = None, []
    for start in range(0, frames, step):
        chunk = {**batch, "video": video[:, start:start + step]}
        out = video_forward(model, params, chunk, rng, axis_name, initial_slots=slots)
        slots = out["next_slots"]
        chunks.append(out)
    return {key: jnp.concatenate([c[key] for c in chunks], axis=1) for key in keys}


def video_outputs(num_true: int, slice_size: int | None, conditional: bool) -> Callable:
    """Per-video ``mse`` over all frames, the collapse diagnostics and segmentation metrics of the
    whole clip (every frame's pixels pooled: :func:`slot_jax.evaluation.video_metrics.clip_masks`)
    and, for a ``conditional`` model, ``track_consistency``."""

    def outputs(model, params, batch, rng, axis_name) -> dict[str, jnp.ndarray]:
        video = batch["video"]
        out = video_in_chunks(model, params, batch, rng, axis_name, slice_size)
        err = (out["recon"].astype(jnp.float32) - video.astype(jnp.float32)) ** 2
        masks = clip_masks(out["masks"])  # [B, K, T, H, W, 1]
        pred_ids = ids_from_masks(masks)  # [B, T, H, W]
        table = contingency_table(batch["ids"], pred_ids, num_true, masks.shape[1])
        metrics = {"mse": jnp.mean(err, axis=(1, 2, 3, 4)),
                   **mask_usage(masks, pred_ids, batch["ids"] > 0),
                   **metrics_from_table(table), **foreground_usage(table)}
        if conditional:
            metrics["track_consistency"] = track_consistency(
                batch["ids"], pred_ids, masks.shape[1]
            )
        return metrics

    return outputs


def set_prediction_outputs(model, params, batch, rng, axis_name) -> dict[str, jnp.ndarray]:
    """Per-image matched ``loss`` and the raw ``predictions``/``targets`` for AP on the host."""
    out = forward(model, params, batch["image"], rng, axis_name)
    cost = pairwise_huber_cost(out["predictions"], batch["targets"])
    rows, cols = match(cost)
    return {
        "loss": matched_cost(cost, rows, cols),
        "predictions": out["predictions"],
        "targets": batch["targets"],
    }


def num_true_ids(dataset: Dataset) -> int:
    """Static size of the true-id axis: the most objects per image plus the background."""
    return (dataset.most_objects or 15) + 1


def make_eval_step(
    model: nn.Module, config: ml_collections.ConfigDict, dataset: Dataset, axis_name: str | None
):
    """``eval_step(params, batch, rng) -> per-image outputs [b, ...]`` plus the padding mask."""
    if config.model.architecture == "set_prediction":
        outputs = set_prediction_outputs
    elif config.model.architecture == "savi":
        outputs = video_outputs(
            num_true_ids(dataset), config.get("eval_slice_size"), model.conditional
        )
    else:
        outputs = autoencoder_outputs(num_true_ids(dataset) if dataset.has_ids else None)

    def eval_step(params: Any, batch: dict, rng: jax.Array) -> dict[str, jnp.ndarray]:
        return {**outputs(model, params, batch, rng, axis_name), "padding_mask": batch["padding_mask"]}

    return eval_step
