"""The GPU suite's measurements, run one after the other within a time budget: ``gpu_suite.sh``.

Cases, most valuable first (a case that would not fit in the time left is skipped, and says so):
our train step (``python -m slot_jax.benchmark``) for the CLEVR config and the sprites config at
batch 64 in bfloat16 and float32; the PyTorch peer on the same shapes, eager and
``torch.compile``d, bf16 and float32; the input pipeline alone. Each case is a fresh process with
its own time cap, so one that fails or hangs costs only its own time. Every case appends one JSON
line to ``OUT/gpu_suite.jsonl`` as soon as it ends (``case``, ``wall_s``, ``rc`` added; a failed
or skipped case gets ``error`` or ``skipped``); logs go to ``OUT/gpu_suite.log``; the table
(:mod:`suite_table`) is printed and written to ``OUT/gpu_suite.md`` at the end.

Environment: ``SUITE_BUDGET_S`` (total seconds, default 510), ``SUITE_ONLY`` (comma-separated case
names), ``SUITE_STEPS``/``SUITE_WARMUP`` (timed/untimed steps), ``SUITE_OVERRIDES`` (extra
``--config.*`` flags for our cases, e.g. tiny shapes for a dry run), ``SUITE_PEAK_TFLOPS`` (the
dense bf16 peak of the device, for MFU; default from its name), ``SUITE_PEER`` (path of
``torch_peer.py``, default ``.lease/torch_peer.py``), ``PYTHON`` (default this interpreter).

    python benchmarks/gpu_suite.py OUT_DIR
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import suite_table  # noqa: E402

REPO = Path(__file__).parents[1]
CONFIGS = {"clevr": "configs/procedural_clevr.py", "sprites": "configs/procedural_multi_dsprites.py"}
TABLE_RESERVE_S = 15
# Dense bf16 rates, the MFU denominator: on the lent H100 and H200 an 8192^3 bf16 matmul ran at
# 769-798 TFLOP/s (/work/.library/device/KINDS.md; the datasheet says 989); the A100's datasheet.
PEAK_TFLOPS = {"H100": 800.0, "H200": 800.0, "A100": 312.0}


@dataclasses.dataclass
class Case:
    """One measurement: ``name``, its command line and time cap; ``needs`` a module, if any."""

    name: str
    command: list[str]
    cap_s: int
    needs: str | None = None


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value else default
    except ValueError:
        sys.exit(f"error: {name}={value!r} is not an integer; set it to a whole number.")


def device_peak_tflops() -> float | None:
    """``SUITE_PEAK_TFLOPS``, else the peak of the GPU that ``nvidia-smi`` names, else None."""
    if os.environ.get("SUITE_PEAK_TFLOPS"):
        return float(os.environ["SUITE_PEAK_TFLOPS"])
    try:
        names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                               capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return next((v for k, v in PEAK_TFLOPS.items() if k in names), None)


def cases(python: str, peer: str, steps: int, warmup: int, peak: float | None) -> list[Case]:
    """Every case, most valuable first."""
    overrides = shlex.split(os.environ.get("SUITE_OVERRIDES", ""))
    peak_flag = [f"--peak_tflops={peak}"] if peak else []

    def ours(arch: str, dtype: str, cap: int) -> Case:
        command = [python, "-m", "slot_jax.benchmark", f"--config={CONFIGS[arch]}",
                   "--config.batch_size=64", f"--config.dtype={dtype}", f"--steps={steps}",
                   f"--warmup={warmup}", *peak_flag, *overrides]
        return Case(f"step:{arch}:{dtype}", command, cap)

    def data(arch: str, cap: int) -> Case:
        command = [python, "-m", "slot_jax.benchmark", f"--config={CONFIGS[arch]}", "--mode=data",
                   "--config.batch_size=64", f"--steps={4 * steps}", f"--warmup={warmup}",
                   *overrides]
        return Case(f"data:{arch}", command, cap)

    def torch(arch: str, compiled: bool, bf16: bool, cap: int) -> Case:
        command = [python, peer, "--arch", arch, "--batch", "64", "--steps", str(steps),
                   "--warmup", str(max(warmup, 3))]
        command += ["--compile"] * compiled + ["--bf16"] * bf16
        mode = "compiled" if compiled else "eager"
        return Case(f"peer:{arch}:{mode}:{'bfloat16' if bf16 else 'float32'}", command, cap,
                    needs="torch")

    return [
        ours("clevr", "bfloat16", 120), ours("clevr", "float32", 120),
        ours("sprites", "bfloat16", 90), ours("sprites", "float32", 90),
        torch("clevr", False, True, 60), torch("clevr", True, True, 150),
        torch("sprites", False, True, 60), torch("sprites", True, True, 120),
        data("sprites", 60), data("clevr", 90),
        torch("clevr", False, False, 60), torch("sprites", False, False, 60),
        torch("clevr", True, False, 150), torch("sprites", True, False, 120),
    ]


def run_case(case: Case, left_s: float, log) -> dict:
    """Runs ``case`` within ``min(cap, left_s)`` seconds; its last JSON line on stdout, annotated."""
    out = {"case": case.name}
    if case.needs and importlib.util.find_spec(case.needs) is None:
        return {**out, "skipped": f"{case.needs} is not installed"}
    cap = min(case.cap_s, int(left_s))
    if cap < 20:
        return {**out, "skipped": f"time budget: {left_s:.0f} s left"}
    log.write(f"\n===== {case.name}: {shlex.join(case.command)} (cap {cap} s)\n")
    log.flush()
    start = time.monotonic()
    try:
        proc = subprocess.run(case.command, cwd=REPO, stdout=subprocess.PIPE, stderr=log,
                              text=True, timeout=cap)
        stdout, rc = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as err:
        partial = err.stdout or ""
        stdout, rc = partial.decode() if isinstance(partial, bytes) else partial, "timeout"
    out.update(wall_s=round(time.monotonic() - start, 1), rc=rc)
    log.write(stdout)
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if rc == 0 and lines:
        try:
            return {**json.loads(lines[-1]), **out}
        except json.JSONDecodeError:
            pass
    return {**out, "error": f"exit {rc}" + ("" if lines else ", no JSON line") + "; see gpu_suite.log"}


def main(out_dir: str) -> None:
    """Runs the cases (see the module docstring), then prints and writes the table."""
    start = time.monotonic()
    budget = _env_int("SUITE_BUDGET_S", 510)
    python = os.environ.get("PYTHON") or sys.executable
    peer = os.environ.get("SUITE_PEER", str(REPO / ".lease" / "torch_peer.py"))
    steps, warmup = _env_int("SUITE_STEPS", 50), _env_int("SUITE_WARMUP", 5)
    only = {c for c in os.environ.get("SUITE_ONLY", "").split(",") if c}
    peak = device_peak_tflops()
    todo = [c for c in cases(python, peer, steps, warmup, peak) if not only or c.name in only]
    unknown = only - {c.name for c in cases(python, peer, steps, warmup, peak)}
    if unknown:
        sys.exit(f"error: SUITE_ONLY names unknown cases {sorted(unknown)}; see gpu_suite.py.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    with open(out / "gpu_suite.jsonl", "a") as jsonl, open(out / "gpu_suite.log", "a") as log:
        for case in todo:
            left = budget - (time.monotonic() - start) - TABLE_RESERVE_S
            result = run_case(case, left, log)
            results.append(result)
            line = json.dumps(result)
            jsonl.write(line + "\n")
            jsonl.flush()
            print(line, flush=True)
    table = suite_table.render(results, peak)
    (out / "gpu_suite.md").write_text(table)
    print(table, flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python benchmarks/gpu_suite.py OUT_DIR")
    main(sys.argv[1])
