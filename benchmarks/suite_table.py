"""The GPU suite's markdown table from its JSON lines: ``python benchmarks/suite_table.py FILE.jsonl``.

Train-step rows (ours and the PyTorch peer's) give img/s; ours also the ratio to the peer's best
setting on the same architecture (all settings, and those of the same dtype), XLA's FLOPs per step,
MFU at the device's dense bf16 peak and the allocator's peak memory. Then the input pipeline alone,
the targets, and every case that failed or was skipped.
"""

from __future__ import annotations

import datetime
import json
import sys

TARGETS_IMG_S = {"clevr": 2200, "sprites": 10000}
PEER_FACTOR = 2.0


def _fmt(value, spec: str = ",.0f", none: str = "-") -> str:
    return none if value is None else format(value, spec)


def _gib(value) -> float | None:
    return None if value is None else value / 2**30


def _peer_best(peers: list[dict], arch: str, dtype: str | None = None) -> float | None:
    rates = [p["img_per_s"] for p in peers if p["arch"] == arch
             and (dtype is None or ("bfloat16" if p["bf16"] else "float32") == dtype)]
    return max(rates) if rates else None


def _ratio(ours: float, peer: float | None) -> str:
    return "-" if not peer else f"{ours / peer:.2f}x"


def render(results: list[dict], peak_tflops: float | None) -> str:
    """The markdown report of the suite's ``results`` (see the module docstring)."""
    ours = [r for r in results if r.get("mode") == "step"]
    peers = [r for r in results if r.get("peer") == "torch"]
    data = [r for r in results if r.get("mode") == "data"]
    device = next((r["device_kind"] for r in ours + data), None) or next(
        (p["device"] for p in peers), "?")
    jax_version = next((r["jax_version"] for r in ours + data), "?")
    torch_version = next((p["torch"] for p in peers), "-")
    lines = [
        f"Device: {device}; jax {jax_version}, torch {torch_version}; "
        f"{datetime.date.today().isoformat()}. MFU at a dense bf16 peak of "
        f"{_fmt(peak_tflops, '.1f')} TFLOP/s, for every dtype.",
        "",
        "| case | img/s | x peer best | x peer same dtype | XLA GFLOP/step | MFU | peak mem GiB "
        "| compile s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in ours:
        arch, rate = r["architecture"], r["img_per_s"]
        gflops = r["flops_per_step"] / 1e9 if r.get("flops_per_step") else None
        lines.append(
            f"| {r['case']} | {rate:,.0f} | {_ratio(rate, _peer_best(peers, arch))} | "
            f"{_ratio(rate, _peer_best(peers, arch, r['dtype']))} | {_fmt(gflops, ',.1f')} | "
            f"{_fmt(r.get('mfu'), '.1%')} | {_fmt(_gib(r.get('peak_bytes_in_use')), '.2f')} | "
            f"{r['compile_s']:.0f} |")
    for p in peers:
        lines.append(f"| {p['case']} ({p['module']}) | {p['img_per_s']:,.0f} | | | | | "
                     f"{_fmt(p.get('peak_mem_gib'), '.2f')} | |")
    if data:
        lines += ["", "Input pipeline alone:", "",
                  "| case | dataset | source | examples/s | set-up s |", "|---|---|---|---|---|"]
        lines += [f"| {r['case']} | {r['dataset']} | {r['source']} | {r['examples_per_s']:,.0f} | "
                  f"{r['setup_s']:.1f} |" for r in data]
    lines += ["", "Targets (not tests):", ""]
    for arch, target in TARGETS_IMG_S.items():
        best = max((r["img_per_s"] for r in ours if r["architecture"] == arch), default=None)
        peer = _peer_best(peers, arch)
        if best is None:
            lines.append(f"- {arch}: not measured.")
            continue
        vs_peer = (f"{best / peer:.2f}x the peer's best (target {PEER_FACTOR:.0f}x: "
                   f"{'met' if best >= PEER_FACTOR * peer else 'not met'})" if peer else
                   "no peer figure")
        lines.append(f"- {arch}: best {best:,.0f} img/s (target {target:,}: "
                     f"{'met' if best >= target else 'not met'}); {vs_peer}.")
    problems = [r for r in results if "error" in r or "skipped" in r]
    if problems:
        lines += ["", "Not measured:", ""]
        lines += [f"- {r['case']}: {r.get('error') or 'skipped, ' + r['skipped']}" for r in problems]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    """Prints the table of a ``gpu_suite.jsonl``."""
    if len(argv) not in (2, 3):
        sys.exit("usage: python benchmarks/suite_table.py gpu_suite.jsonl [PEAK_TFLOPS]")
    with open(argv[1]) as f:
        results = [json.loads(line) for line in f if line.strip()]
    print(render(results, float(argv[2]) if len(argv) == 3 else None), end="")


if __name__ == "__main__":
    main(sys.argv)
