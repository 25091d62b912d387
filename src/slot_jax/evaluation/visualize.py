"""PNG grids of Slot Attention outputs (numpy + PIL).

:func:`slot_grid` lays out one row per example::

    input  recon || slot 1 ... slot K (masks * rgb) || segmentation || attention 1 ... K

:func:`frame_strip` lays out one video, a column per frame: input, reconstruction, slot 1 ... K
(masks * rgb), segmentation.

Images are in ``[-1, 1]``. Slot ``k`` has the colour ``segmentation_colors(K)[k]`` in the
segmentation overlay and tints its attention map, so columns of the same slot can be matched.
"""

from __future__ import annotations

import colorsys
import math
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

# Qualitative palette (matplotlib's tab10, then Kelly's contrast colours); golden-ratio hues beyond.
# fmt: off
_PALETTE = np.array(
    [
        [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
        [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
        [243, 195, 0], [161, 202, 241], [0, 103, 165], [130, 45, 23], [141, 182, 0],
        [96, 78, 151], [249, 147, 121], [43, 61, 38], [230, 143, 172], [194, 178, 128],
    ],
    np.uint8,
)
# fmt: on


def segmentation_colors(k: int) -> np.ndarray:
    """``k`` distinct colours ``[k, 3]`` uint8: a fixed qualitative palette, then golden-ratio hues."""
    if k <= len(_PALETTE):
        return _PALETTE[:k].copy()
    extra = []
    for i in range(k - len(_PALETTE)):
        hue = (0.13 + i * 0.618033988749895) % 1.0
        value = 0.95 - 0.3 * ((i // 7) % 2)
        extra.append(np.round(np.array(colorsys.hsv_to_rgb(hue, 0.75, value)) * 255))
    return np.concatenate([_PALETTE, np.array(extra, np.uint8)])


def colorize_ids(ids: np.ndarray, num_colors: int | None = None) -> np.ndarray:
    """Integer id map ``[...]`` -> RGB ``[..., 3]`` uint8 with :func:`segmentation_colors`."""
    ids = np.asarray(ids).astype(np.int64)
    num_colors = int(ids.max()) + 1 if num_colors is None else num_colors
    return segmentation_colors(num_colors)[ids]


def save_png(array: np.ndarray, path: str | os.PathLike, scale: int = 1) -> None:
    """Writes a uint8 image ``[H, W]`` or ``[H, W, 3|4]`` as PNG, each pixel a ``scale`` x
    ``scale`` block, creating parent directories."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"expected uint8, got {array.dtype}")
    if scale > 1:
        array = np.repeat(np.repeat(array, scale, axis=0), scale, axis=1)
    parent = os.path.dirname(os.fspath(path))
    if parent:
        os.makedirs(parent, exist_ok=True)
    Image.fromarray(array).save(path, format="PNG")


def png_scale(image_height: int, target: int = 128) -> int:
    """The integer ``scale`` for :func:`save_png` that shows images of ``image_height`` pixels at
    about ``target`` pixels (at least 1): small images are unreadable at their own size."""
    return max(1, target // max(image_height, 1))


def _to_unit(x: np.ndarray) -> np.ndarray:
    """``[-1, 1]`` -> ``[0, 1]``, clipped."""
    return np.clip((np.asarray(x, np.float32) + 1.0) / 2.0, 0.0, 1.0)


def _attention_hw(n: int, height: int, width: int) -> tuple[int, int]:
    """Encoder grid ``(h, w)`` with ``h * w = n`` and the image's aspect ratio (square if possible)."""
    h = round(math.sqrt(n * height / width))
    if h <= 0 or n % h:
        raise ValueError(f"cannot infer the attention grid of {n} inputs for a {height}x{width} image")
    return h, n // h


def _upsample_nearest(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """``[..., h, w] -> [..., height, width]`` by nearest-neighbour index mapping."""
    h, w = maps.shape[-2:]
    rows = np.arange(height) * h // height
    cols = np.arange(width) * w // width
    return maps[..., rows[:, None], cols[None, :]]


def _attention_cells(
    attention: np.ndarray, colors: np.ndarray, height: int, width: int, shape: Sequence[int] | None
) -> np.ndarray:
    """Attention ``[B, K, N]`` -> per-slot maps ``[B, K, H, W, 3]`` in [0, 1], each normalised to its
    own maximum and tinted with its slot colour on black."""
    attention = np.asarray(attention, np.float32)
    b, k, n = attention.shape
    h, w = tuple(shape) if shape is not None else _attention_hw(n, height, width)
    maps = attention.reshape(b, k, h, w)
    lo = maps.min(axis=(2, 3), keepdims=True)
    hi = maps.max(axis=(2, 3), keepdims=True)
    maps = (maps - lo) / np.maximum(hi - lo, 1e-12)
    maps = _upsample_nearest(maps, height, width)
    return maps[..., None] * (colors[None, :, None, None, :] / 255.0)


def _assemble(groups: list[list[list[np.ndarray]]], separator: int, fill: float) -> np.ndarray:
    """Tiles equally sized cells ``[H, W, 3]``: ``groups[g][c][r]`` is row ``r`` of column ``c`` of
    column group ``g``. Cells are ``separator`` px apart, groups ``3 * separator``."""
    height, width = groups[0][0][0].shape[:2]
    n_rows = len(groups[0][0])
    gaps = [
        3 * separator if g and not c else separator
        for g, group in enumerate(groups)
        for c in range(len(group))
    ]
    lefts = np.cumsum([separator] + [width + gap for gap in gaps[1:]])
    grid = np.full(
        (n_rows * height + (n_rows + 1) * separator, int(lefts[-1]) + width + separator, 3),
        fill,
        np.float32,
    )
    columns = [column for group in groups for column in group]
    for left, column in zip(lefts, columns, strict=True):
        for r, cell in enumerate(column):
            top = separator + r * (height + separator)
            grid[top : top + height, left : left + width] = cell
    return grid


def slot_grid(
    image: np.ndarray,
    recon: np.ndarray,
    masks: np.ndarray,
    rgb: np.ndarray,
    attention: np.ndarray | None = None,
    num_images: int = 4,
    attention_shape: Sequence[int] | None = None,
    slot_background: float = 1.0,
    overlay_alpha: float = 0.6,
    separator: int = 2,
) -> np.ndarray:
    """Grid of model outputs, one row per example.

    Args:
      image: inputs ``[B, H, W, 3]`` in ``[-1, 1]``.
      recon: reconstructions ``[B, H, W, 3]`` in ``[-1, 1]``.
      masks: slot masks ``[B, K, H, W, 1]`` (softmax over slots).
      rgb: per-slot colours ``[B, K, H, W, 3]`` in ``[-1, 1]``.
      attention: optional slot attention ``[B, K, N]``; adds K columns of attention maps.
      num_images: number of rows (at most ``B``).
      attention_shape: encoder grid ``(h, w)`` with ``h * w = N``; default: the grid of ``N`` cells
        with the image's aspect ratio (``sqrt(N) x sqrt(N)`` for square images).
      slot_background: grey level in ``[0, 1]`` behind each slot's ``masks * rgb`` (1 = white).
      overlay_alpha: opacity of the segmentation colours over the input.
      separator: gap between cells in pixels.

    Returns:
      ``uint8 [rows * H + (rows + 1) * s, cols * W + (cols + 1 + 2 * (groups - 1)) * s, 3]`` with
      ``s = separator``, ``cols = 3 + K`` in 3 column groups (input and reconstruction, slots,
      segmentation), or ``3 + 2K`` in 4 groups with attention; groups are ``3 * s`` apart.
    """
    rows_n = min(num_images, np.shape(image)[0])
    image = _to_unit(np.asarray(image)[:rows_n])
    recon = _to_unit(np.asarray(recon)[:rows_n])
    masks = np.asarray(masks, np.float32)[:rows_n]
    rgb = _to_unit(np.asarray(rgb)[:rows_n])
    height, width = image.shape[1:3]
    num_slots = masks.shape[1]
    colors = segmentation_colors(num_slots)

    slots = masks * rgb + (1.0 - masks) * slot_background  # [B, K, H, W, 3]
    seg = colors[np.argmax(masks[..., 0], axis=1)] / 255.0  # [B, H, W, 3]
    overlay = overlay_alpha * seg + (1.0 - overlay_alpha) * image
    att = None
    if attention is not None:
        att = _attention_cells(np.asarray(attention)[:rows_n], colors, height, width, attention_shape)

    groups = [[image, recon], list(slots.transpose(1, 0, 2, 3, 4)), [overlay]]
    if att is not None:
        groups.append(list(att.transpose(1, 0, 2, 3, 4)))
    grid = _assemble(groups, separator, fill=0.5)
    return np.round(grid * 255.0).astype(np.uint8)


def frame_strip(
    video: np.ndarray,
    recon: np.ndarray,
    masks: np.ndarray,
    rgb: np.ndarray,
    slot_background: float = 1.0,
    overlay_alpha: float = 0.6,
    separator: int = 2,
) -> np.ndarray:
    """One video's frames side by side (columns), with rows input, reconstruction, each slot's
    ``masks * rgb`` and the segmentation overlay (slot colours as in :func:`slot_grid`).

    Args:
      video, recon: ``[T, H, W, 3]`` in ``[-1, 1]``.
      masks: ``[T, K, H, W, 1]`` (softmax over slots).
      rgb: ``[T, K, H, W, 3]`` in ``[-1, 1]``.

    Returns:
      ``uint8 [(K + 3) * H + (K + 4) * s, T * W + (T + 1) * s, 3]`` with ``s = separator``.
    """
    video, recon, rgb = _to_unit(video), _to_unit(recon), _to_unit(rgb)
    masks = np.asarray(masks, np.float32)
    colors = segmentation_colors(masks.shape[1])
    slots = masks * rgb + (1.0 - masks) * slot_background  # [T, K, H, W, 3]
    seg = colors[np.argmax(masks[..., 0], axis=1)] / 255.0  # [T, H, W, 3]
    overlay = overlay_alpha * seg + (1.0 - overlay_alpha) * video
    columns = [[video[t], recon[t], *slots[t], overlay[t]] for t in range(len(video))]
    return np.round(_assemble([columns], separator, fill=0.5) * 255.0).astype(np.uint8)
