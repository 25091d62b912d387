#!/usr/bin/env bash
# usage: experiments/reproduce.sh NAME MINUTES   (NAME: multi_dsprites, tetrominoes or clevr6)
#
# One lease of a paper reproduction on a procedural twin, within MINUTES in all: resumes from the
# checkpoint carried in .lease/NAME (if any), trains the config on in-memory data (no TensorFlow)
# until the time is up (SIGTERM: the trainer saves its step), evaluates that step if the periodic
# evaluation has not, and leaves in $OUT (else reproduce_out/NAME): checkpoint.tar (split into
# 15 MiB parts above that), metrics.json (this lease's curve), slots.png (the last slot grid),
# train.log and eval.log. Then, here: python experiments/reproduction.py record NAME FILES_AT.
# Options: REPRODUCE_OVERRIDES (extra --config.* flags), REPRODUCE_NUM_TRAIN (training scenes),
# REPRODUCE_RESERVE_S (seconds kept for evaluating and packing, default 90), REPRODUCE_WORKDIR,
# REPRODUCE_CARRIED (the folder of the carried checkpoint, default .lease/NAME).
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: experiments/reproduce.sh NAME MINUTES   (NAME: multi_dsprites, tetrominoes or clevr6)"
[[ $# -eq 2 ]] || { echo "$usage" >&2; exit 2; }
name=$1 minutes=$2
case $name in
  multi_dsprites) config=configs/procedural_multi_dsprites.py num_train=100000 every=5000 ;;
  tetrominoes) config=configs/procedural_tetrominoes.py num_train=100000 every=5000 ;;
  clevr6) config=configs/procedural_clevr.py num_train=10000 every=2500 ;;
  *) echo "error: unknown NAME '$name'; use multi_dsprites, tetrominoes or clevr6." >&2; exit 2 ;;
esac
[[ $minutes =~ ^[0-9]+([.][0-9]+)?$ ]] || {
  echo "error: MINUTES='$minutes' is not a number; pass the lease's minutes, e.g. 12." >&2; exit 2; }
start=$SECONDS
budget=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
out=${OUT:-reproduce_out/$name}
workdir=${REPRODUCE_WORKDIR:-/tmp/reproduce/$name}
carried=${REPRODUCE_CARRIED:-.lease/$name}
source benchmarks/lease_env.sh
read -ra extra <<< "${REPRODUCE_OVERRIDES:-}"
flags=(--config="$config" --workdir="$workdir" --config.data.source=memory
       --config.data.num_train="${REPRODUCE_NUM_TRAIN:-$num_train}" --config.keep_checkpoints=1
       --config.eval_every="$every" --config.checkpoint_every="$every" ${extra[@]+"${extra[@]}"})
latest() { ls "$workdir/checkpoints" 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1 || true; }

mkdir -p "$out" "$workdir"
if compgen -G "$carried/checkpoint.tar*" >/dev/null; then
  cat "$carried"/checkpoint.tar* | tar -x -C "$workdir"
fi
first=$(latest)
echo "$name: from step ${first:-0}, $budget s in all"
train_s=$(( budget - ${REPRODUCE_RESERVE_S:-90} - (SECONDS - start) ))
(( train_s >= 10 )) || { echo "error: $budget s leave no time to train; pass more MINUTES." >&2; exit 2; }
rc=0
timeout --signal=TERM --kill-after=60 "$train_s" "$PYTHON" -m slot_jax.main "${flags[@]}" \
  >"$out/train.log" 2>&1 || rc=$?
echo "training ended with status $rc (124: stopped on time, the step saved)"
step=$(latest)
[[ -n $step ]] || { echo "error: no checkpoint was saved; see train.log" >&2; tail -20 "$out/train.log" >&2; exit 1; }
if [[ ! -f $workdir/eval/metrics_$step.json ]]; then
  left=$(( budget - (SECONDS - start) - 15 ))
  timeout --signal=TERM "$(( left > 1 ? left : 1 ))" "$PYTHON" -m slot_jax.main "${flags[@]}" \
    --mode=eval >"$out/eval.log" 2>&1 || echo "the final evaluation failed or ran out of time; see eval.log"
fi
tar -C "$workdir" -cf "$out/checkpoint.tar" checkpoints
if (( $(stat -c %s "$out/checkpoint.tar") > 15 * 1024 * 1024 )); then
  split -b 15M -d "$out/checkpoint.tar" "$out/checkpoint.tar.part" && rm "$out/checkpoint.tar"
fi
[[ -f $workdir/eval/slots_$step.png ]] && cp "$workdir/eval/slots_$step.png" "$out/slots.png"
device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
"$PYTHON" experiments/reproduction.py summary "$workdir" "$out/metrics.json" --name="$name" \
  --start_step="${first:-0}" --end_step="$step" --wall_s="$(( SECONDS - start ))" \
  --device="${device:-$(uname -n) (no GPU)}"
tail -n 300 "$out/train.log" >"$out/train.tail" && mv "$out/train.tail" "$out/train.log"
ls -l "$out"
