#!/usr/bin/env bash
# usage: benchmarks/gpu_suite.sh [OUT_DIR]     (default: $OUT, else ./gpu_suite_out)
#
# One call on a lent GPU, within 9 minutes: our train step (CLEVR and sprites configs, batch 64,
# bf16 and float32), the PyTorch peer on the same shapes (eager and compiled, bf16 and float32) and
# the input pipeline alone, one process each, most valuable first, within SUITE_BUDGET_S (510 s).
# JSON lines, log and table land in OUT_DIR; the table is printed last. Carry .lease (wheels and
# torch_peer.py from benchmarks/fetch_wheels.sh). Options: see benchmarks/gpu_suite.py.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -gt 1 || ${1:-} == -* ]]; then
  echo "usage: benchmarks/gpu_suite.sh [OUT_DIR]" >&2
  exit 2
fi
out=${1:-${OUT:-gpu_suite_out}}
mkdir -p "$out"
source benchmarks/lease_env.sh
{
  date -u +"%Y-%m-%dT%H:%M:%SZ"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,temperature.gpu \
    --format=csv 2>&1 || echo "no nvidia-smi"
  "$PYTHON" - <<'PY' 2>&1 || true
from importlib import metadata
for name in ("jax", "jaxlib", "jax-cuda13-plugin", "flax", "optax", "orbax-checkpoint", "torch"):
    try:
        print(name, metadata.version(name))
    except metadata.PackageNotFoundError:
        print(name, "not installed")
PY
} | tee -a "$out/gpu_suite.log"
"$PYTHON" benchmarks/gpu_suite.py "$out"
