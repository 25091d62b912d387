#!/usr/bin/env bash
# usage: benchmarks/fetch_wheels.sh [PATH/TO/torch_peer.py]   (default ../shared/peers/torch_peer.py)
#
# Fills .lease/ (git-ignored), the folder every call on a lent GPU carries: the wheels of what the
# device image lacks (slot_jax's ml-collections and tensorboardX; the PyTorch peer's slot-attention
# and its requirements), for Python 3.12 on x86-64, into .lease/wheels, and the peer script as
# .lease/torch_peer.py. The image has jax, flax, optax, orbax, torch, einops, numpy, absl, pillow,
# PyYAML, protobuf, sympy and tqdm (/work/.library/device/KINDS.md); it has no TensorFlow, which
# the scripts do without. Needs network access here; run it once before the first lease.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -gt 1 || ${1:-} == -* ]]; then
  echo "usage: benchmarks/fetch_wheels.sh [PATH/TO/torch_peer.py]" >&2
  exit 2
fi
peer=${1:-../shared/peers/torch_peer.py}
[[ -f $peer ]] || { echo "error: no peer script at $peer; pass its path as the argument." >&2; exit 1; }
WHEELS=(
  ml-collections==1.1.0 tensorboardX==2.6.5                # slot_jax
  slot-attention==1.5.2 einx==0.4.3 frozendict==2.5.1      # the peer's SlotAttention module
  vector-quantize-pytorch==1.32.0 loguru==0.7.3 torch-einops-utils==0.2.0 einops==0.8.1
)
mkdir -p .lease
rm -rf .lease/wheels
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .lease/wheels "${WHEELS[@]}"
cp "$peer" .lease/torch_peer.py
du -sh .lease/wheels
ls .lease/wheels
