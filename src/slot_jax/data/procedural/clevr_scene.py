"""CLEVR-like scenes: CLEVR's constants, the scene description, sampling, camera and projection.

Class orders follow TFDS ``clevr``: color, material, shape and size indices index the lists below.
Rendering is in :mod:`slot_jax.data.procedural.clevr_render`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

COLOR_NAMES = ("gray", "blue", "brown", "yellow", "red", "green", "purple", "cyan")
COLOR_RGB = np.array(
    [(87, 87, 87), (42, 75, 215), (129, 74, 25), (255, 238, 51),
     (173, 35, 35), (29, 105, 20), (129, 38, 192), (41, 208, 208)], np.float32,
)
MATERIAL_NAMES = ("rubber", "metal")
SHAPE_NAMES = ("cube", "sphere", "cylinder")
SIZE_NAMES = ("small", "large")
SIZE_VALUES = (0.35, 0.7)
CUBE, SPHERE, CYLINDER = 0, 1, 2
RUBBER, METAL = 0, 1

CAMERA_POSITION = np.array([7.48, -6.51, 5.34], np.float32)
CAMERA_TARGET = np.array([0.0, 0.0, 0.4], np.float32)
FOCAL_MM, SENSOR_MM = 35.0, 32.0
# Key, fill and back light positions (directional lights pointing at the origin) and intensities.
LIGHT_POSITIONS = np.array([[6.45, -2.91, 4.26], [-4.67, -4.01, 3.01], [-1.17, 2.65, 5.81]], np.float32)
LIGHT_INTENSITY = np.array([0.8, 0.25, 0.2], np.float32)
AMBIENT = 0.2
FLOOR_ALBEDO = 0.45
EPS = 1e-3


@dataclass
class Scene:
    """One scene. Per-object arrays have leading dimension N (number of objects).

    shape, color, material, size: int64 [N] class indices; rotation: float32 [N] degrees about z;
    coords: float32 [N, 3] object centres (z = half-extent); extent: float32 [N] half-extent
    (sphere/cylinder radius, cube half side); camera: float32 [3]; lights: float32 [3, 3] unit
    directions towards the key, fill and back lights.
    """

    shape: np.ndarray
    color: np.ndarray
    material: np.ndarray
    size: np.ndarray
    rotation: np.ndarray
    coords: np.ndarray
    extent: np.ndarray
    camera: np.ndarray
    lights: np.ndarray

    @property
    def num_objects(self) -> int:
        """N, the number of objects in the scene."""
        return int(self.shape.shape[0])


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product of [..., 3] arrays (either may be a single vector [3])."""
    if a.ndim == 1:
        return b @ a
    if b.ndim == 1:
        return a @ b
    return np.einsum("...c,...c->...", a, b)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.sqrt(_dot(v, v))[..., None]


def sample_scene(
    rng: np.random.Generator, min_objects: int = 3, max_objects: int = 10, min_gap: float = 0.25,
    max_retries: int = 50, camera_jitter: float = 0.5, light_jitter: float = 1.0,
) -> Scene:
    """Samples objects like CLEVR: x, y ~ U(-3, 3), centre distance minus radii >= ``min_gap``.

    Camera and lights are jittered uniformly by up to ``camera_jitter`` / ``light_jitter`` per axis
    (the camera keeps its viewing direction, as in CLEVR). Restarts when an object cannot be placed.
    """
    while True:
        n = int(rng.integers(min_objects, max_objects + 1))
        shape, size, xy, radius = [], [], [], []
        for _ in range(n):
            s, z = int(rng.integers(3)), int(rng.integers(2))
            r = SIZE_VALUES[z] / (math.sqrt(2.0) if s == CUBE else 1.0)
            for _ in range(max_retries):
                p = rng.uniform(-3.0, 3.0, 2)
                gaps = [np.linalg.norm(p - q) - r - rq for q, rq in zip(xy, radius, strict=True)]
                if min(gaps, default=min_gap) >= min_gap:
                    break
            else:
                break
            shape.append(s), size.append(z), xy.append(p), radius.append(r)
        if len(shape) == n:
            break
    extent = np.array(radius, np.float32)
    coords = np.concatenate([np.array(xy, np.float32), extent[:, None]], axis=1)
    lights = LIGHT_POSITIONS + light_jitter * rng.uniform(-1, 1, (3, 3)).astype(np.float32)
    return Scene(
        shape=np.array(shape, np.int64), color=rng.integers(0, 8, n), material=rng.integers(0, 2, n),
        size=np.array(size, np.int64), rotation=rng.uniform(0, 360, n).astype(np.float32),
        coords=coords, extent=extent,
        camera=CAMERA_POSITION + camera_jitter * rng.uniform(-1, 1, 3).astype(np.float32),
        lights=_unit(lights).astype(np.float32),
    )


def camera_basis(scene: Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit forward, right and up vectors [3] each; the direction is CLEVR's un-jittered one."""
    forward = _unit(CAMERA_TARGET - CAMERA_POSITION)
    right = _unit(np.cross(forward, np.array([0, 0, 1], np.float32)))
    return forward, right, np.cross(right, forward)


def focal_pixels(width: int) -> float:
    """Focal length in pixels: the 32 mm sensor spans the image width."""
    return width * FOCAL_MM / SENSOR_MM


def project(scene: Scene, points: np.ndarray, width: int = 320, height: int = 240) -> np.ndarray:
    """Projects points [N, 3] to CLEVR pixel_coords [N, 3]: (x pixel, y pixel from top, depth)."""
    f, r, u = camera_basis(scene)
    q = points - scene.camera
    depth = q @ f
    fp = focal_pixels(width)
    x = width / 2 + fp * (q @ r) / depth
    y = height / 2 - fp * (q @ u) / depth
    return np.stack([x, y, depth], axis=-1).astype(np.float32)
