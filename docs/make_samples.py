"""Writes ``docs/samples_<builder>[_<config>].png`` for every procedural builder config.

Each PNG is a grid of the first 16 ``train`` examples; every image has its colour-coded id map
(background dark gray) to its right. Builders with a single config omit the config in the name.

    python docs/make_samples.py [--out docs] [--num 16] [--tile 128] [--only procedural_tetrominoes]
"""

from __future__ import annotations

import argparse
import inspect
import io
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

import slot_jax.data.procedural.builders  # noqa: F401  (registers the builders)
from slot_jax.data.procedural.base import ProceduralBuilder
from slot_jax.evaluation import visualize

MAX_BYTES = 300_000
GAP = 4
BACKGROUND = 40  # id 0 is drawn dark gray


def builder_classes(root: type = ProceduralBuilder) -> list[type[ProceduralBuilder]]:
    """All concrete (registered) subclasses of ``root``, sorted by TFDS name."""
    found: dict[str, type[ProceduralBuilder]] = {}
    for sub in root.__subclasses__():
        if not inspect.isabstract(sub):
            found[sub.name] = sub
        found.update({c.name: c for c in builder_classes(sub)})
    return [found[k] for k in sorted(found)]


def colorize_ids(ids: np.ndarray) -> np.ndarray:
    """int ``[H, W]`` ids -> uint8 ``[H, W, 3]``: the library's palette, background dark gray."""
    rgb = visualize.colorize_ids(ids, num_colors=max(int(ids.max()) + 1, 2))
    rgb[ids == 0] = BACKGROUND
    return rgb


def _resize(a: np.ndarray, height: int, smooth: bool) -> np.ndarray:
    h, w = a.shape[:2]
    width = max(1, round(w * height / h))
    filt = Image.BILINEAR if smooth and height < h else Image.NEAREST
    return np.asarray(Image.fromarray(a).resize((width, height), filt))


def sample_grid(builder: ProceduralBuilder, num: int, cols: int, tile: int) -> np.ndarray:
    """uint8 ``[rows * (tile + GAP), cols * (2 tile' + 2 GAP), 3]`` grid of (image | ids) pairs."""
    pairs = []
    for i in range(num):
        ex = builder.make_example("train", i)
        image = _resize(ex["image"], tile, smooth=True)
        ids = _resize(colorize_ids(ex["ids"][..., 0]), tile, smooth=False)
        sep = np.full((tile, GAP // 2, 3), 255, np.uint8)
        pairs.append(np.concatenate([image, sep, ids], axis=1))
    h, w = pairs[0].shape[:2]
    rows = -(-num // cols)
    grid = np.full((rows * (h + GAP) - GAP, cols * (w + GAP) - GAP, 3), 255, np.uint8)
    for i, pair in enumerate(pairs):
        r, c = divmod(i, cols)
        grid[r * (h + GAP) : r * (h + GAP) + h, c * (w + GAP) : c * (w + GAP) + w] = pair
    return grid


def png_bytes(grid: np.ndarray) -> bytes:
    """PNG of ``grid``; quantised to 256 colours when the lossless PNG exceeds ``MAX_BYTES``."""
    img = Image.fromarray(grid)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    if buf.tell() > MAX_BYTES:
        buf = io.BytesIO()
        img.quantize(256, dither=Image.Dither.NONE).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--num", type=int, default=16)
    parser.add_argument("--cols", type=int, default=4)
    parser.add_argument("--tile", type=int, default=128, help="tile height in pixels")
    parser.add_argument("--only", nargs="*", default=None, help="builder names (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        for cls in builder_classes():
            if args.only and cls.name not in args.only:
                continue
            for config in cls.BUILDER_CONFIGS:
                builder = cls(config=config.name, data_dir=data_dir)
                tile = args.tile
                data = png_bytes(sample_grid(builder, args.num, args.cols, tile))
                while len(data) > MAX_BYTES and tile > 32:
                    tile = tile * 3 // 4
                    data = png_bytes(sample_grid(builder, args.num, args.cols, tile))
                suffix = "" if len(cls.BUILDER_CONFIGS) == 1 else f"_{config.name}"
                path = args.out / f"samples_{cls.name}{suffix}.png"
                path.write_bytes(data)
                print(f"{path}: {len(data) / 1000:.0f} KB, tile {tile}px")


if __name__ == "__main__":
    main()
