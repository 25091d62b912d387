"""When did each seed first discover objects? Step and wall-clock minutes to a held-out FG-ARI.

    python experiments/learning_test/time_to_objects.py RUN_DIR[=LABEL] ... [--threshold=0.6]

``RUN_DIR`` is a ``python -m slot_jax.seeds`` workdir (``seed_<S>/eval/metrics_<step>.json``).
Minutes run from the seed's ``config.json`` (written once the run is set up, before compiling) to
the first evaluation at or above the threshold, from the files' modification times, so they
include compilation and every evaluation before it, and they depend on what else the machine ran.
A run that was stopped and resumed has no minutes ("-").
"""

import argparse
import glob
import json
import os
import re


def first_reach(seed_dir: str, threshold: float) -> tuple[int | None, float | None, float]:
    """``(step, minutes, final FG-ARI)``: the first evaluation at or above ``threshold``."""
    start = os.path.getmtime(os.path.join(seed_dir, "config.json"))
    evals = []
    for path in glob.glob(os.path.join(seed_dir, "eval", "metrics_*.json")):
        with open(path) as f:
            result = json.load(f)
        evals.append((int(result["step"]), result["metrics"]["fg_ari"]["mean"], os.path.getmtime(path)))
    evals.sort()
    final = evals[-1][1] if evals else float("nan")
    resumed = any(mtime < start for _, _, mtime in evals)  # config.json is rewritten on resume
    for step, fg_ari, mtime in evals:
        if fg_ari >= threshold:
            return step, None if resumed else (mtime - start) / 60, final
    return None, None, final


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", help="RUN_DIR[=LABEL]")
    parser.add_argument("--threshold", type=float, default=0.6)
    args = parser.parse_args()
    print(f"| run | seed | first step at FG-ARI >= {args.threshold} | minutes | final FG-ARI |")
    print("|---|---|---|---|---|")
    for spec in args.runs:
        run_dir, _, label = spec.partition("=")
        seeds = sorted(int(re.sub(r"\D", "", os.path.basename(d)))
                       for d in glob.glob(os.path.join(run_dir, "seed_*")) if os.path.isdir(d))
        for seed in seeds:
            step, minutes, final = first_reach(os.path.join(run_dir, f"seed_{seed}"), args.threshold)
            reached = "never" if step is None else f"{step:,}"
            mins = "-" if minutes is None else f"{minutes:.1f}"
            print(f"| {label or run_dir} | {seed} | {reached} | {mins} | {final:.3f} |")


if __name__ == "__main__":
    main()
