"""FG-ARI against steps from ``python -m slot_jax.seeds`` results: a PNG and a markdown table.

    python experiments/learning_test/plot.py RUN_DIR/seeds.json [--out=fg_ari.png] [--metric=ari]
    python experiments/learning_test/plot.py SA_DIR/seeds.json=SA ISA_DIR/seeds.json=ISA --out=cmp.png

Several results, each ``PATH=LABEL``, share one plot (one colour per label) and one table.
"""

import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(spec: str, metric: str) -> tuple[str, dict, dict[int, dict[int, float]]]:
    """``PATH[=LABEL]`` -> (label, baselines, {seed: {step: metric}})."""
    path, _, label = spec.partition("=")
    with open(path) as f:
        results = json.load(f)
    curves = {
        int(s): {int(k): v[metric] for k, v in sorted(c.items(), key=lambda kv: int(kv[0]))}
        for s, c in results["curves"].items()
    }
    return label, results["baselines"], curves


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", nargs="+", help="seeds.json of python -m slot_jax.seeds[=LABEL]")
    parser.add_argument("--out", default="experiments/learning_test/fg_ari.png")
    parser.add_argument("--metric", default="fg_ari")
    args = parser.parse_args()
    runs = [load(spec, args.metric) for spec in args.results]
    steps = sorted({step for _, _, curves in runs for curve in curves.values() for step in curve})
    labelled = any(label for label, _, _ in runs)
    print(("| run " if labelled else "") + "| seed | " + " | ".join(f"{s:,}" for s in steps) + " |")
    print("|---" * (len(steps) + 1 + labelled) + "|")
    fig, ax = plt.subplots(figsize=(6, 4))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for r, (label, _, curves) in enumerate(runs):
        for i, (seed, curve) in enumerate(sorted(curves.items())):
            cells = " | ".join(f"{curve.get(s, float('nan')):.3f}" for s in steps)
            print((f"| {label} " if labelled else "") + f"| {seed} | {cells} |")
            colour = colours[(r if labelled else i) % len(colours)]
            name = f"{label} seed {seed}" if labelled else f"seed {seed}"
            ax.plot(list(curve), list(curve.values()), marker="o", color=colour, label=name,
                    linestyle=("-", "--", ":", "-.")[i % 4] if labelled else "-")
    for name, value in (runs[0][1] if args.metric == "fg_ari" else {}).items():  # FG-ARI baselines
        ax.axhline(value, linestyle="--", color="gray", linewidth=1)
        ax.annotate(name, (steps[0], value), textcoords="offset points", xytext=(0, 3), fontsize=8)
    ax.set_xlabel("training step")
    ax.set_ylabel(f"held-out {args.metric.upper().replace('_', '-')}")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
