"""How much video FG-ARI a segmentation loses at object borders alone, on the moving-sprite videos.

Scores the true ids of 64 generated ``procedural_moving_sprites/tiny`` videos (and two larger
renderings of the same kind of scene) against themselves with every id moved one pixel to the right
in every frame: each border one pixel off, no object merged or split. FG-ARI pools all pixels of a
video, as the evaluator does::

    python experiments/video/boundary_oracle.py
"""

from __future__ import annotations

import dataclasses

import numpy as np

from slot_jax import adjusted_rand_index
from slot_jax.data.procedural import moving_sprites
from slot_jax.data.procedural.scene import example_rng

NUM_VIDEOS = 64
TINY = moving_sprites.PRESETS["tiny"][1]
DATASETS = {
    "tiny (32x32, shipped)": TINY,
    "tiny, sprites 1.25x larger (scales 0.9-1, size factor 0.5)": dataclasses.replace(
        TINY, scales=(0.9, 1.0), size_factor=0.5),
    "tiny at 40x40": dataclasses.replace(TINY, height=40, width=40),
    "tiny at 48x48": dataclasses.replace(TINY, height=48, width=48),
}


def main() -> None:
    print("| data | objects per video | foreground share | video FG-ARI, borders shifted 1 px |")
    print("|---|---|---|---|")
    for name, options in DATASETS.items():
        videos = [moving_sprites.generate(example_rng(0, "test", i), options)
                  for i in range(NUM_VIDEOS)]
        ids = np.stack([v["ids"][..., 0] for v in videos]).astype(np.int32)  # [N, T, H, W]
        shifted = np.roll(ids, 1, axis=3)
        num = int(ids.max()) + 1
        score = float(np.mean(adjusted_rand_index(
            ids.reshape(NUM_VIDEOS, -1), shifted.reshape(NUM_VIDEOS, -1), ignore_background=True,
            num_true=num, num_pred=num)))
        objects = np.mean([len(np.unique(v)) - 1 for v in ids])
        print(f"| {name} | {objects:.2f} | {np.mean(ids > 0):.2f} | {score:.3f} |")


if __name__ == "__main__":
    main()
