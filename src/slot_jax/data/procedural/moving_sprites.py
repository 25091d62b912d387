"""``procedural_moving_sprites``: videos of dSprites shapes moving and bouncing, rendered in numpy.

Each video paints the sprites of :mod:`.sprites` (square, ellipse, heart; the same latents, colours
and drawing) in every frame. A sprite keeps its shape, scale, orientation and colour; its centre
moves at a constant velocity and bounces off the borders: the position latent (``x``, ``y`` in
[0, 1], mapped to pixels as in :mod:`.sprites`, so ``margin`` keeps centres off the edges) is
reflected at 0 and 1. Speeds are uniform in ``[min_speed, max_speed]`` image sizes per frame, in a
uniform direction. The depth order is fixed (paint order): later sprites occlude earlier ones in
every frame. Start positions are uniform in [0, 1] (or clustered, with ``cluster_spread``), and a
video is resampled until every sprite keeps ``min_visible_pixels`` and ``min_visible_fraction`` of
its area in the first frame, where conditioning reads the objects; later frames may hide one.

Configs:

* ``standard`` (default): 64x64, 24 frames, 2-4 HSV sprites on black.
* ``tiny``: 32x32, 6 frames, the sprites of ``procedural_multi_dsprites/simple`` (2-3 large HSV
  sprites on black, well separated colours); for tests and fast learning runs.

A video (:func:`generate`; stored and kept as :func:`.scene.canonical_example` keeps an image):

* ``video``: uint8 ``[T, H, W, 3]``;
* ``ids``: uint8 ``[T, H, W, 1]``, 0 = background, sprite ``i`` (paint order) is ``i + 1`` in every
  frame; a sprite hidden in a frame has no pixel there;
* ``boxes``: float32 ``[T, max_objects, 4]``, row ``i`` the box of sprite ``i``'s visible pixels,
  ``[y0, x0, y1, x1]`` in [0, 1] (pixel edges); zeros for a hidden sprite and for padding rows;
* ``centers``: float32 ``[T, max_objects, 2]``, the centre of mass ``[y, x]`` in [0, 1] of the same
  pixels; zeros likewise;
* ``objects``: ``shape``, ``scale``, ``orientation``, ``color`` as in :mod:`.sprites`, the start
  position ``x``, ``y`` and the velocity ``vx``, ``vy`` (position latent per frame), plus
  ``visible_pixels`` (over the whole video).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from slot_jax.data.procedural.scene import option_values, paint_order_ids, to_uint8
from slot_jax.data.procedural.sprites import PRESETS as SPRITE_PRESETS
from slot_jax.data.procedural.sprites import (
    SpritesOptions,
    resample_until_visible,
    sample_latents,
    sample_palette,
    sample_positions,
    sprite_masks,
    sprite_objects,
)


@dataclasses.dataclass(eq=False, kw_only=True)
class MovingSpritesOptions(SpritesOptions):
    """Moving-sprites options: the sprite options of :class:`.sprites.SpritesOptions` (the sprite
    size range is ``scales`` times ``size_factor``), and

    Attributes:
      num_frames: frames per video.
      min_speed, max_speed: the range of each sprite's speed, in image sizes per frame.
    """

    num_frames: int = 24
    min_speed: float = 0.02
    max_speed: float = 0.05


def bounce(position: np.ndarray) -> np.ndarray:
    """Unbounded positions -> positions in [0, 1], reflected at the borders (a triangle wave)."""
    folded = np.mod(position, 2.0)
    return np.where(folded > 1.0, 2.0 - folded, folded).astype(np.float32)


def trajectories(start: np.ndarray, velocity: np.ndarray, num_frames: int) -> np.ndarray:
    """float ``[N]`` start latents and velocities (latent per frame) -> float32 ``[N, T]`` positions
    in [0, 1], bouncing off 0 and 1."""
    t = np.arange(num_frames, dtype=np.float32)
    return bounce(np.asarray(start, np.float32)[:, None] + np.asarray(velocity)[:, None] * t)


def boxes_and_centers(ids: np.ndarray, max_objects: int) -> tuple[np.ndarray, np.ndarray]:
    """int ``[T, H, W]`` ids -> float32 boxes ``[T, max_objects, 4]`` (``[y0, x0, y1, x1]``, pixel
    edges over the size) and centres of mass ``[T, max_objects, 2]`` (``[y, x]``, pixel centres
    over the size) of each id ``1..max_objects``; zeros where an id has no pixel."""
    _, h, w = ids.shape
    masks = ids[None] == np.arange(1, max_objects + 1)[:, None, None, None]  # [K, T, H, W]
    rows, cols = masks.any(axis=3), masks.any(axis=2)  # [K, T, H], [K, T, W]
    visible = rows.any(axis=-1)
    y0, y1 = np.argmax(rows, -1), h - np.argmax(rows[..., ::-1], -1)
    x0, x1 = np.argmax(cols, -1), w - np.argmax(cols[..., ::-1], -1)
    boxes = np.stack([y0 / h, x0 / w, y1 / h, x1 / w], axis=-1) * visible[..., None]
    count = np.maximum(masks.sum(axis=(2, 3)), 1)
    cy = (masks.sum(axis=3) * (np.arange(h) + 0.5)).sum(-1) / count / h
    cx = (masks.sum(axis=2) * (np.arange(w) + 0.5)).sum(-1) / count / w
    centers = np.stack([cy, cx], axis=-1) * visible[..., None]
    return (boxes.transpose(1, 0, 2).astype(np.float32),
            centers.transpose(1, 0, 2).astype(np.float32))


def _start_positions(rng: np.random.Generator, config: MovingSpritesOptions, n: int) -> np.ndarray:
    if config.cluster_spread > 0:
        return sample_positions(rng, config, n)
    return rng.uniform(size=n).astype(np.float32)


def _sample_video(rng: np.random.Generator, config: MovingSpritesOptions):
    """A video, its first frame's ids and the int ``[N]`` full (unoccluded) pixel area of each
    sprite in the first frame."""
    latents = sample_latents(rng, config, _start_positions)
    n = len(latents["x"])
    speed = rng.uniform(config.min_speed, config.max_speed, size=n)
    angle = rng.uniform(0.0, 2.0 * np.pi, size=n)
    span = 1.0 - 2.0 * config.margin  # image sizes per unit of the position latent
    velocity = {"vx": speed * np.cos(angle) / span, "vy": speed * np.sin(angle) / span}
    palette = sample_palette(rng, config, n)

    t = config.num_frames
    x = trajectories(latents["x"], velocity["vx"], t).ravel()  # [N * T], sprite-major
    y = trajectories(latents["y"], velocity["vy"], t).ravel()
    frame_latents = {k: np.repeat(latents[k], t) for k in ("shape", "scale", "orientation")}
    masks = sprite_masks(config, **frame_latents, x=x, y=y)
    masks = masks.reshape(n, t, config.height, config.width)
    ids = paint_order_ids(masks)  # [T, H, W]
    boxes, centers = boxes_and_centers(ids, config.max_objects)
    video = {"video": to_uint8(palette[ids]), "ids": ids[..., None], "boxes": boxes,
             "centers": centers, "objects": sprite_objects({**latents, **velocity}, palette)}
    return video, ids[0], masks[:, 0].sum(axis=(1, 2))


def generate_moving_sprites(rng: np.random.Generator, config: MovingSpritesOptions) -> dict:
    """One video (the layout in the module docstring)."""
    return resample_until_visible(_sample_video, rng, config)


PRESETS: dict[str, tuple[str, MovingSpritesOptions]] = {
    "standard": (
        "64x64, 24 frames, 2-4 HSV sprites on black, moving and bouncing.",
        MovingSpritesOptions(
            num_train=2000, num_eval=128, height=64, width=64, min_objects=2, max_objects=4,
            background="black", scales=(0.6, 0.7, 0.8, 0.9, 1.0), size_factor=0.3, margin=0.15,
            min_color_distance=0.35, distinct_colors=True, min_visible_pixels=40,
            min_visible_fraction=0.5, num_frames=24, min_speed=0.01, max_speed=0.04,
        ),
    ),
    "tiny": (
        "32x32, 6 frames, the 2-3 large sprites of procedural_multi_dsprites/simple, moving.",
        MovingSpritesOptions(**option_values(SPRITE_PRESETS["simple"][1]) | dict(
            num_train=2000, num_eval=128, num_frames=6, min_speed=0.03, max_speed=0.08,
        )),
    ),
}
generate = generate_moving_sprites
