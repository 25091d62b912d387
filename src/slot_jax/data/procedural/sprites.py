"""``procedural_multi_dsprites``: Multi-dSprites-like scenes rendered offline in numpy.

Each scene paints 2-5 (config-dependent) dSprites shapes (square, ellipse, heart) in order, later
sprites occluding earlier ones, over a uniform background. Latents follow dSprites: scale one of
``linspace(0.5, 1, 6)``, orientation one of ``linspace(0, 2 pi, 40)``, x and y each one of
``linspace(0, 1, 32)``. Position ``p`` maps to the pixel centre ``(margin + (1 - 2 margin) p) W``
(margin 0.25) and a sprite spans about ``size_factor * W * scale`` pixels (0.45). The heart is the
implicit curve ``(x^2 + y^2 - 1)^3 - x^2 y^3 <= 0``. No anti-aliasing.

Configs (the object counts and colour models of the DeepMind variants):

* ``colored_on_grayscale`` (default): 64x64, 2-5 sprites, random HSV colours, random gray background.
* ``colored_on_colored``: 64x64, 1-4 sprites, sprite and background colours uniform in RGB.
* ``binarized``: 64x64, 2-3 white sprites on black, stored as RGB ``[H, W, 3]`` like the others.
* ``simple``: 32x32, 2-3 large HSV sprites on black, each keeping >= 24 visible pixels and half
  its area, with well separated colours; meant for fast learning tests.
* ``quickstart``: 32x32, 3-4 HSV sprites on black (scales 0.7-1, size factor 0.35), each keeping
  >= 20 visible pixels and half its area, with well separated colours; the README's first run.
* ``clustered``: 16x16, rendered at that size (every pixel one sprite's exact colour), 2-3 small
  HSV sprites on black, placed as a tight cluster at a random spot (``cluster_spread``), each
  keeping >= 12 visible pixels and 80% of its area. A fixed partition of the image separates such
  objects poorly (a 2x2 grid scores FG-ARI 0.28 on the 256 ``test`` images), so a model has to bind
  slots to objects, not to image regions. The CPU learning test's data.

Scenes: see :mod:`slot_jax.data.procedural.scene`; ``objects`` has ``shape`` (ClassLabel square /
ellipse / heart), ``scale``, ``orientation``, ``x``, ``y`` (float32 latents) and ``color`` (float32
[3] RGB in [0, 1]), plus ``visible_pixels``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from slot_jax.data.procedural.scene import SceneOptions, paint_order_ids, to_uint8, visible_pixels

SHAPE_NAMES = ("square", "ellipse", "heart")
SCALES = tuple(float(s) for s in np.linspace(0.5, 1.0, 6))
ORIENTATIONS = np.linspace(0.0, 2.0 * np.pi, 40, dtype=np.float32)
POSITIONS = np.linspace(0.0, 1.0, 32, dtype=np.float32)
ELLIPSE_ASPECT = 0.5  # minor / major semi-axis
HEART_EXTENT = 1.14  # half-width of the implicit heart; it spans y in [-1, 1.24]
MAX_SCENE_TRIES = 100


@dataclasses.dataclass(eq=False, kw_only=True)
class SpritesOptions(SceneOptions):
    """Multi-dSprites options.

    Attributes:
      background: "grayscale" (uniform gray level), "colored" (uniform RGB) or "black".
      sprite_colors: "hsv" (H ~ U(0, 1), S, V ~ U(0.5, 1)), "rgb" (uniform) or "white".
      scales: the scale latents to draw from.
      size_factor: sprite extent in image widths at scale 1.
      margin: fraction of the image on each side left free of sprite centres.
      cluster_spread: 0 draws each sprite's x and y from the dSprites position grid. Above 0, a
        scene draws one cluster centre per axis, uniform in ``[spread, 1 - spread]``, and each
        sprite's position is that centre plus a uniform offset in ``[-spread, spread]``
        (continuous, not on the grid).
      min_color_distance: resample a sprite colour closer than this (RGB Euclidean, [0, 1] units) to
        the background or, when ``distinct_colors``, to an earlier sprite.
      distinct_colors: also keep sprite colours apart from each other.
      min_visible_pixels, min_visible_fraction: resample the scene until every sprite keeps this
        many visible pixels and this fraction of its own (unoccluded) area.
    """

    background: str = "grayscale"
    sprite_colors: str = "hsv"
    scales: tuple[float, ...] = SCALES
    size_factor: float = 0.45
    margin: float = 0.25
    cluster_spread: float = 0.0
    min_color_distance: float = 0.15
    distinct_colors: bool = False
    min_visible_pixels: int = 0
    min_visible_fraction: float = 0.0


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """float ``[..., 3]`` HSV in [0, 1] -> float ``[..., 3]`` RGB in [0, 1]."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    k = (np.array([5.0, 3.0, 1.0]) + 6.0 * h[..., None]) % 6.0
    return v[..., None] - v[..., None] * s[..., None] * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def _sample_color(rng: np.random.Generator, model: str) -> np.ndarray:
    if model == "hsv":
        return hsv_to_rgb(np.array([rng.uniform(), rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.0)]))
    if model == "rgb":
        return rng.uniform(size=3)
    if model == "white":
        return np.ones(3)
    raise ValueError(f"Unknown sprite colour model {model!r}.")


def sample_background(rng: np.random.Generator, model: str) -> np.ndarray:
    if model == "grayscale":
        return np.full(3, rng.uniform())
    if model == "colored":
        return rng.uniform(size=3)
    if model == "black":
        return np.zeros(3)
    raise ValueError(f"Unknown background model {model!r}.")


def sample_colors(rng: np.random.Generator, config: SpritesOptions, background: np.ndarray, n: int):
    """float ``[n, 3]`` sprite colours kept ``min_color_distance`` from the background (and apart)."""
    colors: list[np.ndarray] = []
    for _ in range(n):
        for _ in range(MAX_SCENE_TRIES):
            color = _sample_color(rng, config.sprite_colors)
            others = [background, *colors] if config.distinct_colors else [background]
            if min(np.linalg.norm(color - o) for o in others) >= config.min_color_distance:
                break
        colors.append(color)
    return np.array(colors, np.float32).reshape(n, 3)


def sample_positions(rng: np.random.Generator, config: SpritesOptions, n: int) -> np.ndarray:
    """float32 ``[n]`` position latents in [0, 1] along one axis (see ``cluster_spread``)."""
    spread = config.cluster_spread
    if spread <= 0:
        return rng.choice(POSITIONS, size=n)
    centre = rng.uniform(spread, 1.0 - spread)
    return np.clip(centre + rng.uniform(-spread, spread, size=n), 0.0, 1.0).astype(np.float32)


def sprite_masks(
    config: SpritesOptions, shape: np.ndarray, scale: np.ndarray, orientation: np.ndarray,
    x: np.ndarray, y: np.ndarray,
) -> np.ndarray:
    """Per-sprite latents ``[N]`` -> bool ``[N, H, W]`` full (unoccluded) sprite masks."""
    h, w = config.height, config.width
    col = lambda a: np.asarray(a, np.float32)[:, None, None]  # noqa: E731
    cy = (config.margin + (1.0 - 2.0 * config.margin) * col(y)) * h
    cx = (config.margin + (1.0 - 2.0 * config.margin) * col(x)) * w
    half = 0.5 * config.size_factor * w * col(scale)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    dx, dy = xx[None] - cx, yy[None] - cy
    cos, sin = np.cos(col(orientation)), np.sin(col(orientation))
    u = (cos * dx + sin * dy) / half  # sprite frame, [-1, 1] across the sprite
    v = (-sin * dx + cos * dy) / half
    square = np.maximum(np.abs(u), np.abs(v)) <= 1.0
    ve = v * (1.0 / ELLIPSE_ASPECT)
    ellipse = u * u + ve * ve <= 1.0
    hx, hy = HEART_EXTENT * u, 0.118 - HEART_EXTENT * v  # lobes up (image v grows downwards)
    hx2, r = hx * hx, hx * hx + hy * hy - 1.0
    heart = r * r * r <= hx2 * hy * hy * hy
    s = col(shape).astype(np.int64)
    return np.where(s == 0, square, np.where(s == 1, ellipse, heart))


PositionSampler = Callable[[np.random.Generator, SpritesOptions, int], np.ndarray]


def sample_latents(
    rng: np.random.Generator, config: SpritesOptions, positions: PositionSampler = sample_positions
) -> dict[str, np.ndarray]:
    """The latents ``shape``, ``scale``, ``orientation``, ``x``, ``y`` (each ``[N]``) of a scene's
    sprites, their number uniform in ``[min_objects, max_objects]``; ``positions`` draws x and y."""
    n = int(rng.integers(config.min_objects, config.max_objects + 1))
    return {
        "shape": rng.integers(0, len(SHAPE_NAMES), size=n),
        "scale": rng.choice(np.asarray(config.scales, np.float32), size=n),
        "orientation": rng.choice(ORIENTATIONS, size=n),
        "x": positions(rng, config, n),
        "y": positions(rng, config, n),
    }


def sample_palette(rng: np.random.Generator, config: SpritesOptions, n: int) -> np.ndarray:
    """float32 ``[n + 1, 3]``: the background colour (id 0), then the colours of sprites 1..n."""
    background = sample_background(rng, config.background)
    colors = sample_colors(rng, config, background, n)
    return np.concatenate([background[None].astype(np.float32), colors])


def sprite_objects(latents: dict[str, np.ndarray], palette: np.ndarray) -> dict[str, np.ndarray]:
    """The stored ``objects``: the latents (``shape`` int64, the others float32) and ``color``."""
    objects = {k: np.asarray(v, np.int64 if k == "shape" else np.float32) for k, v in latents.items()}
    objects["color"] = palette[1:]
    return objects


def _sample_scene(rng: np.random.Generator, config: SpritesOptions):
    """A scene, its ids and the int ``[N]`` full (unoccluded) pixel area of each sprite."""
    latents = sample_latents(rng, config)
    palette = sample_palette(rng, config, len(latents["x"]))
    masks = sprite_masks(config, **latents)
    ids = paint_order_ids(masks)
    scene = {"image": to_uint8(palette[ids]), "ids": ids, "objects": sprite_objects(latents, palette)}
    return scene, ids, masks.sum(axis=(1, 2))


def resample_until_visible(
    sample: Callable[[np.random.Generator, SpritesOptions], tuple[dict, np.ndarray, np.ndarray]],
    rng: np.random.Generator, config: SpritesOptions,
) -> dict:
    """The scene of ``sample(rng, config) -> (scene, ids [H, W], full areas [N])``, drawn again (up
    to ``MAX_SCENE_TRIES`` times) until every sprite keeps ``min_visible_pixels`` and
    ``min_visible_fraction`` of its area in ``ids``."""
    for _ in range(MAX_SCENE_TRIES):
        scene, ids, areas = sample(rng, config)
        counts = visible_pixels(ids, len(areas))
        enough = np.maximum(config.min_visible_pixels, config.min_visible_fraction * areas)
        if np.all(counts >= enough):
            break
    return scene


def generate_sprites(rng: np.random.Generator, config: SpritesOptions) -> dict:
    """One scene: image uint8 [H, W, 3], ids uint8 [H, W], objects (per-sprite arrays [N])."""
    return resample_until_visible(_sample_scene, rng, config)


PRESETS: dict[str, tuple[str, SpritesOptions]] = {
    "colored_on_grayscale": (
        "2-5 HSV-coloured sprites on a gray background.", SpritesOptions(),
    ),
    "colored_on_colored": (
        "1-4 RGB-coloured sprites on a coloured background.",
        SpritesOptions(background="colored", sprite_colors="rgb", min_objects=1, max_objects=4),
    ),
    "binarized": (
        "2-3 white sprites on black (stored as RGB).",
        SpritesOptions(background="black", sprite_colors="white", min_objects=2, max_objects=3,
                       min_color_distance=0.0),
    ),
    "simple": (
        "32x32, 2-3 large, clearly visible sprites on black.",
        SpritesOptions(
            num_train=5000, num_eval=256, height=32, width=32, min_objects=2, max_objects=3,
            background="black", scales=(0.8, 0.9, 1.0), size_factor=0.4, margin=0.2,
            min_color_distance=0.35, distinct_colors=True, min_visible_pixels=24,
            min_visible_fraction=0.5,
        ),
    ),
    "quickstart": (
        "32x32, 3-4 HSV sprites on black, each mostly visible.",
        SpritesOptions(
            num_train=5000, num_eval=256, height=32, width=32, min_objects=3, max_objects=4,
            background="black", scales=(0.7, 0.8, 0.9, 1.0), size_factor=0.35, margin=0.15,
            min_color_distance=0.35, distinct_colors=True, min_visible_pixels=20,
            min_visible_fraction=0.5,
        ),
    ),
    "clustered": (
        "16x16, 2-3 sprites on black in a tight cluster.",
        SpritesOptions(
            num_train=5000, num_eval=256, height=16, width=16, min_objects=2, max_objects=3,
            background="black", scales=(0.8, 0.9, 1.0), size_factor=0.3, margin=0.1,
            cluster_spread=0.2, min_color_distance=0.35, distinct_colors=True,
            min_visible_pixels=12, min_visible_fraction=0.8,
        ),
    ),
}
generate = generate_sprites
