"""Slot image grids for TensorBoard, during training and evaluation."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import numpy as np

from slot_jax.lib.logger import Logger

NUM_IMAGES = 4


def log_images(
    logger: Logger, model: nn.Module, params: Any, images: np.ndarray, key: jax.Array, step: int
) -> np.ndarray:
    """Logs input | reconstruction | per-slot masks·rgb | segmentation | attention for a few images.

    ``images``: float ``[b, H, W, C]`` in [-1, 1] (host). Returns the uint8 grid ``[H', W', 3]``.
    """
    from slot_jax.evaluation.visualize import slot_grid

    images = np.asarray(images[:NUM_IMAGES])
    out = jax.device_get(_apply(model, params, images, jax.random.fold_in(key, 2**31 - 1)))
    grid = slot_grid(images, out["recon"], out["masks"], out["rgb"], out["attention"],
                     num_images=len(images))
    logger.image(step, "slots", grid)
    return grid


@jax.jit(static_argnums=0)
def _apply(model, params, images, key):
    return model.apply({"params": params}, images, rngs={"slots": key})
