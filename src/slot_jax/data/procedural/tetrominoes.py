"""``procedural_tetrominoes``: Tetrominoes-like scenes rendered offline in numpy.

Each 35x35 scene has three non-overlapping tetrominoes on black, at uniformly random pixel
offsets fully inside the image. A piece is made of 5x5-pixel blocks with a bevel (bright top/left
edge, dark bottom/right edge), in one of six colours (red, green, blue, yellow, magenta, cyan);
colours may repeat within a scene.

Shape types: the DeepMind set has 17 shape/orientation types without listing them. This builder
uses the 19 fixed tetrominoes (every distinct 90-degree rotation of O, I, T, S, Z, J, L) minus the
two I pieces: ``O``, ``T_0..T_3``, ``S_0, S_1``, ``Z_0, Z_1``, ``J_0..J_3``, ``L_0..L_3``.

Scenes: see :mod:`slot_jax.data.procedural.scene`; ``objects`` has ``shape`` (ClassLabel of
:data:`SHAPE_NAMES`), ``color`` (ClassLabel of :data:`COLOR_NAMES`), ``x``, ``y`` (float32 centroid of
the piece's pixels, divided by the image width / height, so in [0, 1]) and ``visible_pixels``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from slot_jax.data.procedural.scene import SceneOptions, to_uint8

_BASE_PIECES = {
    "O": ("XX", "XX"),
    "I": ("XXXX",),
    "T": ("XXX", ".X."),
    "S": (".XX", "XX."),
    "Z": ("XX.", ".XX"),
    "J": ("X..", "XXX"),
    "L": ("..X", "XXX"),
}
EXCLUDED_PIECES = ("I",)
COLOR_NAMES = ("red", "green", "blue", "yellow", "magenta", "cyan")
COLOR_RGB = np.array(
    [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 0, 1), (0, 1, 1)], np.float32
)
BEVEL_LIGHT, BEVEL_FACE, BEVEL_DARK = 1.0, 0.8, 0.55
MAX_TRIES = 200


def _rotations(rows: tuple[str, ...]) -> list[np.ndarray]:
    """Distinct 90-degree rotations of a piece, each int [4, 2] (row, col) cells, sorted."""
    cells = np.array([(r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "X"])
    found: list[np.ndarray] = []
    for _ in range(4):
        norm = cells - cells.min(axis=0)
        norm = norm[np.lexsort((norm[:, 1], norm[:, 0]))]
        if not any(np.array_equal(norm, f) for f in found):
            found.append(norm)
        cells = np.stack([cells[:, 1], -cells[:, 0]], axis=1)  # rotate by 90 degrees
    return found


def _piece_table() -> tuple[tuple[str, ...], tuple[np.ndarray, ...]]:
    names, cells = [], []
    for letter, rows in _BASE_PIECES.items():
        if letter in EXCLUDED_PIECES:
            continue
        rots = _rotations(rows)
        for k, rot in enumerate(rots):
            names.append(letter if len(rots) == 1 else f"{letter}_{k}")
            cells.append(rot)
    return tuple(names), tuple(cells)


SHAPE_NAMES, SHAPE_CELLS = _piece_table()


@dataclasses.dataclass(eq=False, kw_only=True)
class TetrominoesOptions(SceneOptions):
    """Tetrominoes options.

    Attributes:
      cell_size: block side in pixels.
      bevel: shade block edges (False: flat colour).
      min_gap: minimum empty pixels between pieces (0: pieces may touch, never overlap).
    """

    height: int = 35
    width: int = 35
    min_objects: int = 3
    max_objects: int = 3
    cell_size: int = 5
    bevel: bool = True
    min_gap: int = 0


def cell_shade(cell_size: int, bevel: bool) -> np.ndarray:
    """float ``[cell_size, cell_size]`` brightness of one block."""
    if not bevel:
        return np.ones((cell_size, cell_size), np.float32)
    shade = np.full((cell_size, cell_size), BEVEL_FACE, np.float32)
    shade[0, :], shade[:, 0] = BEVEL_LIGHT, BEVEL_LIGHT
    shade[-1, :], shade[:, -1] = BEVEL_DARK, BEVEL_DARK
    return shade


def piece_pattern(shape: int, cell_size: int, bevel: bool) -> np.ndarray:
    """float ``[h, w]`` brightness of a piece over its bounding box (0 outside the piece)."""
    cells = SHAPE_CELLS[shape]
    rows, cols = cells.max(axis=0) + 1
    occupancy = np.zeros((rows, cols), np.float32)
    occupancy[cells[:, 0], cells[:, 1]] = 1.0
    return np.kron(occupancy, cell_shade(cell_size, bevel))


def _dilate(mask: np.ndarray, gap: int) -> np.ndarray:
    out = mask.copy()
    h, w = mask.shape
    for dy in range(-gap, gap + 1):
        for dx in range(-gap, gap + 1):
            out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] |= mask[
                max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
            ]
    return out


def _place(rng: np.random.Generator, config: TetrominoesOptions, ids: np.ndarray, pattern: np.ndarray):
    """A free top-left offset (y, x) for ``pattern`` given the ids painted so far, or None."""
    ph, pw = pattern.shape
    taken = _dilate(ids > 0, config.min_gap) if config.min_gap else ids > 0
    for _ in range(MAX_TRIES):
        y0 = int(rng.integers(0, config.height - ph + 1))
        x0 = int(rng.integers(0, config.width - pw + 1))
        if not (taken[y0 : y0 + ph, x0 : x0 + pw] & (pattern > 0)).any():
            return y0, x0
    return None


def _try_scene(rng: np.random.Generator, config: TetrominoesOptions) -> dict | None:
    h, w = config.height, config.width
    n = int(rng.integers(config.min_objects, config.max_objects + 1))
    shapes = rng.integers(0, len(SHAPE_NAMES), size=n)
    colors = rng.integers(0, len(COLOR_NAMES), size=n)
    ids = np.zeros((h, w), np.uint8)
    image = np.zeros((h, w, 3), np.float32)
    xs, ys = np.zeros(n, np.float32), np.zeros(n, np.float32)
    for i in range(n):
        pattern = piece_pattern(int(shapes[i]), config.cell_size, config.bevel)
        offset = _place(rng, config, ids, pattern)
        if offset is None:
            return None
        y0, x0 = offset
        ph, pw = pattern.shape
        inside = pattern > 0
        ids[y0 : y0 + ph, x0 : x0 + pw][inside] = i + 1
        image[y0 : y0 + ph, x0 : x0 + pw][inside] = pattern[inside, None] * COLOR_RGB[colors[i]]
        py, px = np.nonzero(inside)
        ys[i], xs[i] = (py.mean() + y0 + 0.5) / h, (px.mean() + x0 + 0.5) / w
    objects = {"shape": shapes, "color": colors, "x": xs, "y": ys}
    return {"image": to_uint8(image), "ids": ids, "objects": objects}


def generate_tetrominoes(rng: np.random.Generator, config: TetrominoesOptions) -> dict:
    """One scene: image uint8 [H, W, 3], ids uint8 [H, W], objects (per-piece arrays [N])."""
    for _ in range(MAX_TRIES):
        scene = _try_scene(rng, config)
        if scene is not None:
            return scene
    raise RuntimeError(f"Could not place {config.max_objects} pieces in {config.height}x{config.width}.")


PRESETS: dict[str, tuple[str, TetrominoesOptions]] = {
    "default": ("35x35, three non-overlapping pieces.", TetrominoesOptions()),
}
generate = generate_tetrominoes
