"""The last lines of a finished training run: its held-out scores beside the trivial baselines
(:mod:`slot_jax.evaluation.baselines`), the collapse warning if it applies, and where the slot grid
(or a video's frame strip) and the metrics JSON are."""

from __future__ import annotations

import json
import os

import ml_collections

from slot_jax.data.dataset import Dataset
from slot_jax.evaluation.baselines import baseline_scores
from slot_jax.evaluation.collapse import collapse_warning
from slot_jax.evaluation.results import results_path
from slot_jax.evaluation.summary import summary_line


def final_report(
    config: ml_collections.ConfigDict, workdir: str, step: int, dataset: Dataset | None = None
) -> list[str]:
    """The lines to print after training ended at ``step``; ``[]`` when no evaluation was written
    at that step (``config.eval_every`` 0, or a run stopped early). ``dataset``: the run's
    ``config.data``, resolved (default: resolved here)."""
    path = results_path(workdir, step)
    if not os.path.isfile(path):
        return []
    with open(path) as f:
        metrics = json.load(f)["metrics"]
    if "fg_ari" not in metrics:  # set prediction: its own summary line
        return [summary_line(step, metrics), f"Metrics: {path}"]
    base = baseline_scores(config, dataset)
    k = config.model.num_slots

    def scores(key: str) -> str:
        boxes = base.get("first_frame_boxes")
        still = f", first-frame boxes held still {boxes[key]:.3f}" if boxes else ""
        return (f"{metrics[key]['mean']:.3f}   (one segment {base['one_segment'][key]:.3f}, "
                f"fixed grid of {k} blocks {base['grid'][key]:.3f}{still})")

    lines = [
        f"Held-out results at step {step:,} ({metrics['fg_ari']['num_images']} "
        f"{'videos' if config.model.architecture == 'savi' else 'images'}):",
        f"  FG-ARI {scores('fg_ari')}",
        f"  mBO    {scores('mbo')}",
    ]
    if "track_consistency" in metrics:  # a conditional video model
        lines.append(f"  track consistency {metrics['track_consistency']['mean']:.3f}")
    warning = collapse_warning(metrics, k)
    if warning:
        lines.append(f"warning: {warning}")
    for name, what in (("slots", "Slot grid"), ("frames", "Frame strip")):
        png = os.path.join(workdir, "eval", f"{name}_{step}.png")
        if os.path.isfile(png):
            lines.append(f"{what}: {png}")
    lines.append(f"Metrics: {path}")
    return lines
