"""Re-evaluates every kept checkpoint of a ``slot_jax.seeds`` run with the current evaluator.

Used to put the collapse diagnostics (``slot_jax.evaluation.collapse``) on runs trained before
they existed, and to measure the collapse warning against each run's final FG-ARI::

    python experiments/learning_test/diagnose.py --config=configs/learning_test.py \\
        --workdir=RUNDIR --seeds=0,1,2 [--config.<key>=<value> ...] --out=diagnostics.json

The runs must keep their checkpoints (``--config.checkpoint_every=1000
--config.keep_checkpoints=7``). Writes ``{seed: {step: {metric: mean}, ...}, ...}``, to which
``confusion.py`` applies :func:`collapse_warning`; each evaluation's printed line says whether it
fired.
"""

from __future__ import annotations

import argparse
import json
import os

import jax

from slot_jax.config_base import load_config
from slot_jax.evaluation import collapse
from slot_jax.evaluation.collapse import collapse_warning
from slot_jax.lib import checkpoint
from slot_jax.train.setup import build_setup


def diagnose(config_file: str, workdir: str, seeds: list[int], overrides: list[str],
             steps_filter: list[int] | None = None) -> dict:
    run = build_setup(load_config(config_file, overrides), jax.devices()[:1])
    out = {}
    for seed in seeds:
        seed_dir = os.path.join(workdir, f"seed_{seed}")
        manager = checkpoint.make_manager(seed_dir, 100, read_only=True)
        steps = steps_filter or sorted(manager.all_steps())
        curve = {}
        try:
            for step in steps:
                state = checkpoint.restore(manager, run.abstract_state(), step)
                summary, _ = run.evaluator(state.params, state.key)
                curve[step] = {k: v["mean"] for k, v in summary.items()}
                warned = collapse_warning(summary, run.config.model.num_slots) is not None
                print(seed, step, {k: round(v, 3) for k, v in curve[step].items()}, warned)
        finally:
            manager.close()
        out[seed] = curve
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--seeds", required=True)
    parser.add_argument("--steps", default="", help="only these checkpoint steps (default: all)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--duplicate_similarity", type=float, default=None,
                        help="measure duplicates at another similarity threshold")
    args, overrides = parser.parse_known_args()
    if args.duplicate_similarity is not None:
        collapse.DUPLICATE_SIMILARITY = args.duplicate_similarity
    steps = [int(s) for s in args.steps.split(",")] if args.steps else None
    result = diagnose(args.config, args.workdir, [int(s) for s in args.seeds.split(",")], overrides,
                      steps)
    with open(args.out, "w") as f:
        json.dump({"config": args.config, "overrides": overrides, "workdir": args.workdir,
                   "seeds": result}, f, indent=1)


if __name__ == "__main__":
    main()
