"""The per-image evaluation outputs of the paper's two tasks, chosen by ``config.model.architecture``.

* ``autoencoder`` (object discovery): segmentation metrics of the alpha masks against the true ids
  (where the dataset has them), plus per-image reconstruction MSE.
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
from slot_jax.lib.forward import forward
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
    else:
        outputs = autoencoder_outputs(num_true_ids(dataset) if dataset.has_ids else None)

    def eval_step(params: Any, batch: dict, rng: jax.Array) -> dict[str, jnp.ndarray]:
        return {**outputs(model, params, batch, rng, axis_name), "padding_mask": batch["padding_mask"]}

    return eval_step
