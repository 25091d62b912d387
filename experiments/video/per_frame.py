"""FG-ARI of each frame, and of the clip, for a trained video run's latest checkpoint.

Shows where a run loses FG-ARI over time: a model trained on short windows
(``config.data.train_frames``) degrades on the frames past its window::

    python experiments/video/per_frame.py WORKDIR
"""

from __future__ import annotations

import json
import os
import sys

import jax
import ml_collections
import numpy as np

from slot_jax import adjusted_rand_index
from slot_jax.data.memory import split_arrays
from slot_jax.evaluation.outputs import video_in_chunks
from slot_jax.lib import checkpoint
from slot_jax.train.setup import build_setup


def fg_ari(ids: np.ndarray, pred: np.ndarray) -> float:
    n = len(ids)
    return float(np.mean(adjusted_rand_index(ids.reshape(n, -1), pred.reshape(n, -1),
                                             ignore_background=True, num_true=8, num_pred=8)))


def main(workdir: str) -> None:
    with open(os.path.join(workdir, "config.json")) as f:
        config = ml_collections.ConfigDict(json.load(f))
    run = build_setup(config, jax.devices()[:1])
    manager = checkpoint.make_manager(workdir, 100, read_only=True)
    step = max(manager.all_steps())
    state = checkpoint.restore(manager, run.abstract_state(), step)
    config.data.source = "memory"  # the same videos, generated in this process
    videos = split_arrays(config.data, "test")
    batch = {k: v[:64] for k, v in videos.items()}
    out = video_in_chunks(run.model, state.params, batch, jax.random.key(0), None, None)
    pred = np.asarray(out["masks"])[..., 0].argmax(axis=2)  # [B, T, H, W]
    ids = np.asarray(batch["ids"]).astype(np.int32).reshape(pred.shape)
    for t in range(ids.shape[1]):
        print(f"frame {t}: FG-ARI {fg_ari(ids[:, t], pred[:, t]):.3f}")
    print(f"clip (step {step}): FG-ARI {fg_ari(ids, pred):.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
