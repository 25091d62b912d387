"""The two tasks of the paper, chosen by ``config.model.architecture``.

* ``autoencoder``: object discovery; loss = MSE of the reconstruction; evaluation = segmentation
  metrics of the alpha masks against the true ids, plus per-image MSE.
* ``set_prediction``: property prediction; loss = Hungarian-matched Huber; evaluation = AP at the
  paper's distance thresholds over the whole held-out set, plus the per-image matched loss.

Each loss is ``loss(model, params, batch, rng, axis_name) -> scalar`` and each eval function
``outputs(model, params, batch, rng, axis_name) -> dict of per-image arrays [b, ...]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from slot_jax.metrics import segmentation_metrics
from slot_jax.set_loss import hungarian_huber_loss, match, matched_cost, pairwise_huber_cost
from slot_jax.set_metrics import ap_at_thresholds
from slot_jax.train.step import forward, reconstruction_loss

SEGMENTATION_KEYS = ("fg_ari", "ari", "mbo", "miou", "num_objects")


def set_prediction_loss(model, params, batch, rng, axis_name) -> jnp.ndarray:
    """The set-prediction loss of ``batch["targets"]`` (Hungarian-matched Huber)."""
    out = forward(model, params, batch["image"], rng, axis_name)
    return hungarian_huber_loss(out["predictions"], batch["targets"])


def autoencoder_outputs(num_true: int | None) -> Callable:
    """Per-image ``mse`` and, when ``num_true`` (ids per image + 1) is given, segmentation metrics."""

    def outputs(model, params, batch, rng, axis_name) -> dict[str, jnp.ndarray]:
        image = batch["image"]
        out = forward(model, params, image, rng, axis_name)
        err = (out["recon"].astype(jnp.float32) - image.astype(jnp.float32)) ** 2
        metrics = {"mse": jnp.mean(err, axis=(1, 2, 3))}
        if num_true is not None:
            seg = segmentation_metrics(batch["ids"], out["masks"], num_true=num_true)
            metrics.update({k: seg[k] for k in SEGMENTATION_KEYS})
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


LOSSES: dict[str, Callable[..., jnp.ndarray]] = {
    "autoencoder": reconstruction_loss,
    "set_prediction": set_prediction_loss,
}


def _mean_sem(values: np.ndarray) -> dict[str, Any]:
    v = np.asarray(values, np.float64)
    n = int(v.size)
    sem = float(v.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    return {"mean": float(v.mean()) if n else float("nan"), "sem": sem, "num_images": n}


def summarize(per_image: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """Mean, standard error and count of each per-image metric over the unpadded images.

    mBO and mIoU average over images holding at least one object. With ``predictions`` and
    ``targets`` (set prediction), adds ``ap_<threshold>`` over all valid images (``sem`` 0).
    """
    valid = np.asarray(per_image["padding_mask"]).astype(bool)
    has_objects = valid & (np.asarray(per_image.get("num_objects", valid)) > 0)
    out = {}
    for key, values in per_image.items():
        if key in ("padding_mask", "num_objects", "predictions", "targets"):
            continue
        out[key] = _mean_sem(np.asarray(values)[has_objects if key in ("mbo", "miou") else valid])
    if "predictions" in per_image:
        aps = ap_at_thresholds(per_image["predictions"][valid], per_image["targets"][valid])
        n = int(valid.sum())
        out.update({k: {"mean": float(v), "sem": 0.0, "num_images": n} for k, v in aps.items()})
    return out


def eval_outputs(architecture: str, num_true: int | None) -> Callable:
    """The per-image evaluation function of ``architecture``."""
    if architecture == "set_prediction":
        return set_prediction_outputs
    return autoencoder_outputs(num_true)
