"""Learning test: Slot Attention binds slots to objects, on every seed, within minutes on CPU.

It trains ``configs/learning_test.py`` (clustered sprites at 16x16, K = 4; see its docstring) on
the seeds in ``config.learning_test_seeds``, each as its own ``python -m slot_jax.main`` process on
its own core (:func:`slot_jax.commands.seeds.run_seeds`), and scores held-out FG-ARI with the trainer's
evaluator against two trivial segmentations of the same images: every pixel in one segment, and a
fixed grid of K blocks. Each seed must reach FG-ARI >= 0.6 and beat the better baseline by >= 0.3,
and its final evaluation must not raise the collapse warning.

Other seeds: ``LEARNING_TEST_SEEDS=7,8 python -m pytest tests/test_learning.py``. About 10
minutes on 2 CPU cores. ``experiments/learning_test/README.md`` has the measured runs, including
the broken variants of Slot Attention this test rejects.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import train_learning_seeds

from slot_jax.evaluation.baselines import baseline_fg_aris, grid_ids
from slot_jax.evaluation.collapse import collapse_warning
from slot_jax.evaluation.results import results_path

MIN_FG_ARI = 0.6
MIN_MARGIN = 0.3  # over the better trivial baseline
MAX_GRID_FG_ARI = 0.35  # the data must not be separable by position alone


def test_grid_ids_blocks():
    np.testing.assert_array_equal(grid_ids(4, 4, 4), [[0, 0, 1, 1]] * 2 + [[2, 2, 3, 3]] * 2)
    assert sorted(np.unique(grid_ids(6, 9, 6))) == list(range(6))


@pytest.mark.learning
def test_slot_attention_separates_objects(tfds_dir, tmp_path):
    config, _, curves = train_learning_seeds("learning_test", tfds_dir, str(tmp_path))
    baselines = baseline_fg_aris(config)
    assert baselines["grid"] <= MAX_GRID_FG_ARI, baselines
    best = max(baselines.values())
    final = {seed: curve[config.num_train_steps]["fg_ari"] for seed, curve in curves.items()}
    summary = "; ".join(
        [f"seed {s}: FG-ARI {v:.3f}" for s, v in final.items()]
        + [f"{name} {value:.3f}" for name, value in baselines.items()]
    )
    print(summary)
    for seed, fg_ari in final.items():
        assert fg_ari >= MIN_FG_ARI, f"seed {seed} below FG-ARI {MIN_FG_ARI}: {summary}"
        assert fg_ari - best >= MIN_MARGIN, f"seed {seed} within {MIN_MARGIN} of a baseline: {summary}"
        # A passing run's final evaluation must not look collapsed to the collapse warning.
        with open(results_path(str(tmp_path / f"seed_{seed}"), config.num_train_steps)) as f:
            metrics = json.load(f)["metrics"]
        warning = collapse_warning(metrics, config.model.num_slots)
        assert warning is None, f"seed {seed}: {warning}"
