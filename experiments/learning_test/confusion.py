"""The collapse warning against each run's outcome, from ``diagnose.py`` results.

    python experiments/learning_test/confusion.py diag_a.json=LABEL diag_b.json=LABEL ... \\
        [--fail_below=0.6]

A run *fails* when its final held-out FG-ARI is below ``--fail_below``. Prints one row per run
(the final FG-ARI, the diagnostics at the end, the steps at which the warning fired) and the
confusion table of the warning at each run's final evaluation. The warning is recomputed from the
stored means with the library's current :func:`collapse_warning`.
"""

import argparse
import json

from slot_jax.evaluation.collapse import collapse_warning


def warns(metrics: dict, num_slots: int) -> bool:
    """The library's collapse warning, recomputed from an evaluation's metric means."""
    means = {k: v for k, v in metrics.items() if isinstance(v, float)}
    return collapse_warning({k: {"mean": v, "num_images": 1} for k, v in means.items()},
                            num_slots) is not None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", nargs="+", help="diagnose.py output[=LABEL]")
    parser.add_argument("--fail_below", type=float, default=0.6)
    parser.add_argument("--num_slots", type=int, default=4)
    args = parser.parse_args()
    table = {(f, w): 0 for f in (True, False) for w in (True, False)}
    print("| run | seed | final step | FG-ARI | largest slot / object share of fg | duplicate "
          "slots | warned at steps | outcome |")
    print("|---|---|---|---|---|---|---|---|")
    for spec in args.results:
        path, _, label = spec.partition("=")
        with open(path) as f:
            seeds = json.load(f)["seeds"]
        for seed, curve in sorted(seeds.items(), key=lambda kv: int(kv[0])):
            steps = sorted(curve, key=int)
            end = curve[steps[-1]]
            failed = end["fg_ari"] < args.fail_below
            warned = [int(s) for s in steps if warns(curve[s], args.num_slots)]
            table[(failed, warns(end, args.num_slots))] += 1
            shares = f"{end.get('fg_largest_slot', float('nan')):.2f} / " \
                     f"{end.get('fg_largest_object', float('nan')):.2f}"
            print(f"| {label or path} | {seed} | {int(steps[-1]):,} | {end['fg_ari']:.3f} | {shares} "
                  f"| {end['duplicate_slots']:.2f} | {', '.join(f'{s:,}' for s in warned) or '-'} "
                  f"| {'fails' if failed else 'passes'} |")
    print()
    print(f"| final evaluation | warned | not warned |\n|---|---|---|\n"
          f"| failed (FG-ARI < {args.fail_below}) | {table[(True, True)]} | {table[(True, False)]} |\n"
          f"| passed | {table[(False, True)]} | {table[(False, False)]} |")


if __name__ == "__main__":
    main()
