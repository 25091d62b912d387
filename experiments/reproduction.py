"""The paper reproductions on the procedural twins, lease after lease (``experiments/reproduce.sh``).

``summary WORKDIR OUT.json --name --start_step --end_step --wall_s --device`` (on the GPU, by
reproduce.sh) writes this lease's curve: the held-out metrics of every evaluation in WORKDIR.

``record NAME FILES_AT`` (here, after the call) keeps the lease: the checkpoint goes to
``.lease/NAME/`` (carried by the next call, which resumes from it), the curve is merged into
``experiments/NAME/curve.json``, the slot grid is copied, and ``experiments/NAME/fg_ari.png`` and
``README.md`` are written again from the whole curve.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# name: (title, config, slots, the paper's FG-ARI on the real dataset, in %)
RUNS = {
    "multi_dsprites": ("Multi-dSprites-like", "configs/procedural_multi_dsprites.py", 6, "91.3 ± 0.3"),
    "tetrominoes": ("Tetrominoes-like", "configs/procedural_tetrominoes.py", 4, "99.5 ± 0.2"),
    "clevr6": ("CLEVR-like CLEVR6", "configs/procedural_clevr.py", 7, "98.8 ± 0.3"),
}
METRICS = ("fg_ari", "ari", "mbo", "mse")


def summary(args: argparse.Namespace) -> None:
    """Writes this lease's curve and facts as JSON."""
    from slot_jax.evaluation.results import read_curve

    lease = {"name": args.name, "date": datetime.date.today().isoformat(), "device": args.device,
             "start_step": args.start_step, "end_step": args.end_step, "wall_s": args.wall_s,
             "curve": {str(k): v for k, v in read_curve(args.workdir).items()}}
    with open(args.out, "w") as f:
        json.dump(lease, f, indent=1)


def _plot(curve: dict[int, dict], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = sorted(curve)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, [curve[s].get("fg_ari", float("nan")) for s in steps], marker="o")
    ax.set(xlabel="training step", ylabel="held-out FG-ARI", ylim=(0, 1), title=title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _readme(name: str, record: dict) -> str:
    title, config, slots, paper = RUNS[name]
    curve = {int(k): v for k, v in record["curve"].items()}
    lines = [
        f"# Reproduction: {title} (procedural twin), K = {slots}",
        "",
        f"`{config}` trained on a lent GPU, one lease after another, each resuming from the last "
        f"one's checkpoint (`experiments/reproduce.sh {name} MINUTES`). The paper's FG-ARI is "
        f"{paper} on the real dataset; this is the procedural twin, so the numbers compare "
        "different data. This file, `curve.json` and `fg_ari.png` are written by "
        f"`python experiments/reproduction.py record {name} FILES_AT`.",
        "",
        "One lease (the device call, then here):",
        "",
        "```",
        f'run(command="bash experiments/reproduce.sh {name} 9", carry=[".lease"], timeout_s=600)',
        f"python experiments/reproduction.py record {name} FILES_AT",
        "```",
        "",
        "![FG-ARI against steps](fg_ari.png)",
        "",
        "| step | " + " | ".join(m.upper().replace("_", "-") for m in METRICS) + " |",
        "|---" * (len(METRICS) + 1) + "|",
    ]
    for step in sorted(curve):
        values = [curve[step].get(m) for m in METRICS]
        lines.append(f"| {step:,} | " + " | ".join("-" if v is None else f"{v:.3f}" for v in values)
                     + " |")
    lines += ["", "| lease | device | steps | wall s |", "|---|---|---|---|"]
    lines += [f"| {r['date']} | {r['device']} | {r['start_step']:,} -> {r['end_step']:,} | "
              f"{r['wall_s']} |" for r in record["leases"]]
    if record["leases"]:
        lines += ["", f"Slots at step {record['leases'][-1]['end_step']:,} (held-out images):", "",
                  "![slots](slots.png)"]
    return "\n".join(lines) + "\n"


def record(args: argparse.Namespace) -> None:
    """Keeps a fetched lease (see the module docstring)."""
    if args.name not in RUNS:
        sys.exit(f"error: unknown NAME {args.name!r}; use one of {', '.join(RUNS)}.")
    lease_file = os.path.join(args.files_at, "metrics.json")
    if not os.path.isfile(lease_file):
        sys.exit(f"error: no metrics.json in {args.files_at}; pass the files_at folder of the call.")
    with open(lease_file) as f:
        lease = json.load(f)
    parts = sorted(glob.glob(os.path.join(args.files_at, "checkpoint.tar*")))
    if not parts:
        sys.exit(f"error: no checkpoint.tar in {args.files_at}; the call saved no checkpoint.")
    carried = os.path.join(args.repo, ".lease", args.name)
    shutil.rmtree(carried, ignore_errors=True)
    os.makedirs(carried)
    for part in parts:
        shutil.copy(part, carried)
    folder = os.path.join(args.repo, "experiments", args.name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "curve.json")
    history = {"curve": {}, "leases": []}
    if os.path.exists(path):
        with open(path) as f:
            history = json.load(f)
    history["curve"].update(lease.pop("curve"))
    history["curve"] = dict(sorted(history["curve"].items(), key=lambda kv: int(kv[0])))
    history["leases"].append(lease)
    with open(path, "w") as f:
        json.dump(history, f, indent=1)
    if os.path.exists(os.path.join(args.files_at, "slots.png")):
        shutil.copy(os.path.join(args.files_at, "slots.png"), folder)
    curve = {int(k): v for k, v in history["curve"].items()}
    if curve:
        _plot(curve, os.path.join(folder, "fg_ari.png"), RUNS[args.name][0])
    with open(os.path.join(folder, "README.md"), "w") as f:
        f.write(_readme(args.name, history))
    print(f"{args.name}: steps {lease['start_step']:,} -> {lease['end_step']:,}; "
          f"{len(curve)} points; checkpoint in {carried}")


def main(argv: list[str] | None = None) -> None:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="experiments/reproduction.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summary", help="this lease's curve (on the GPU)")
    s.add_argument("workdir")
    s.add_argument("out")
    s.add_argument("--name", required=True)
    s.add_argument("--start_step", type=int, required=True)
    s.add_argument("--end_step", type=int, required=True)
    s.add_argument("--wall_s", type=int, required=True)
    s.add_argument("--device", required=True)
    r = sub.add_parser("record", help="keep a fetched lease (here)")
    r.add_argument("name")
    r.add_argument("files_at")
    r.add_argument("--repo", default=REPO, help="the checkout to record into (default this one)")
    args = parser.parse_args(argv)
    summary(args) if args.command == "summary" else record(args)


if __name__ == "__main__":
    main()
