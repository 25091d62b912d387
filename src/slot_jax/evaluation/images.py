"""Slot image grids for TensorBoard, during training and evaluation; a video's frame strip."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import numpy as np

from slot_jax.evaluation.outputs import video_in_chunks
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


def log_frames(
    logger: Logger, model: nn.Module, params: Any, batch: dict, key: jax.Array, step: int,
    slice_size: int | None = None,
) -> np.ndarray:
    """Logs the frame strip of the first video of ``batch`` (host; ``video [b, T, H, W, C]`` and,
    for a conditional model, its boxes or centres) as ``frames``: input / reconstruction / each
    slot / segmentation, a column per frame, run in chunks of ``slice_size`` frames as the
    evaluation runs it. Returns the uint8 strip."""
    from slot_jax.evaluation.visualize import frame_strip

    first = {k: np.asarray(v[:1]) for k, v in batch.items() if k != "padding_mask"}
    out = jax.device_get(_apply_video(model, params, first, jax.random.fold_in(key, 2**31 - 1),
                                      slice_size))
    strip = frame_strip(first["video"][0], out["recon"][0], out["masks"][0], out["rgb"][0])
    logger.image(step, "frames", strip)
    return strip


@jax.jit(static_argnums=(0, 4))
def _apply_video(model, params, batch, key, slice_size):
    return video_in_chunks(model, params, batch, key, None, slice_size, ("recon", "masks", "rgb"))
