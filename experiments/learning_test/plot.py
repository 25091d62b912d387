"""FG-ARI against steps from ``python -m slot_jax.seeds`` results: a PNG and a markdown table.

    python experiments/learning_test/plot.py RUN_DIR/seeds.json [--out=fg_ari.png] [--metric=ari]
"""

import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", help="seeds.json written by python -m slot_jax.seeds")
    parser.add_argument("--out", default="experiments/learning_test/fg_ari.png")
    parser.add_argument("--metric", default="fg_ari")
    args = parser.parse_args()
    with open(args.results) as f:
        results = json.load(f)
    curves = {
        int(s): {int(k): v[args.metric] for k, v in c.items()} for s, c in results["curves"].items()
    }
    steps = sorted({step for curve in curves.values() for step in curve})
    print("| seed | " + " | ".join(f"{s:,}" for s in steps) + " |")
    print("|---" * (len(steps) + 1) + "|")
    for seed, curve in sorted(curves.items()):
        print(f"| {seed} | " + " | ".join(f"{curve.get(s, float('nan')):.3f}" for s in steps) + " |")
    fig, ax = plt.subplots(figsize=(6, 4))
    for seed, curve in sorted(curves.items()):
        ax.plot(list(curve), list(curve.values()), marker="o", label=f"seed {seed}")
    for name, value in results["baselines"].items():
        ax.axhline(value, linestyle="--", color="gray", linewidth=1)
        ax.annotate(name, (steps[0], value), textcoords="offset points", xytext=(0, 3), fontsize=8)
    ax.set_xlabel("training step")
    ax.set_ylabel(f"held-out {args.metric.upper().replace('_', '-')}")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
