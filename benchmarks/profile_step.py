"""Where the train step's time goes, per XLA op and per layer, from a ``jax.profiler`` trace.

    python benchmarks/profile_step.py --config=configs/learning_test.py [--config.key=value ...]
        [--steps=20] [--warmup=3] [--top=25] [--depth=3] [--trace_dir=DIR]

Compiles the trainer's own train step on ``slot_jax.commands.benchmark``'s fixed synthetic batch
(``benchmark.prepared_step``, as the step benchmark does), traces ``--steps`` steps, and prints two
tables of milliseconds per step: the ``--top`` XLA ops (name, shape and the source op they came
from), and the same time summed per layer (``fwd``/``bwd`` and the first ``--depth`` parts of the
op's name in the model, e.g. ``bwd SlotAutoencoder/decoder/conv_4``; ``?`` and the kind of op for
those that carry no source, such as XLA's layout copies and some gradient convolutions). Ops overlap
on a multi-core CPU, so the times can add up to more than the wall time; the last line gives both.
``experiments/benchmarks.md`` quotes its output.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import re
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INSTRUCTION = re.compile(r"^\s*(?:ROOT )?%?([\w.\-]+) = (\S+) ")
_COMPUTATION = re.compile(r"^(?:ENTRY )?%?([\w.\-]+) .*\{\s*$")
_OP_NAME = re.compile(r'op_name="([^"]+)"')
_CALLS = re.compile(r"calls=%?([\w.\-]+)")


def source_ops(hlo_text: str) -> dict[str, tuple[str, str]]:
    """``{instruction: (shape, source op name or "")}`` for every instruction of the optimised HLO;
    a fusion gets the first source name found inside the computation it calls."""
    inside: dict[str, list[str]] = {}
    current = None
    for line in hlo_text.splitlines():
        match = _COMPUTATION.match(line)
        if match and not line.startswith(" "):
            current = match.group(1)
            inside[current] = []
        elif current and (name := _OP_NAME.search(line)):
            inside[current].append(name.group(1))
    ops = {}
    for line in hlo_text.splitlines():
        match = _INSTRUCTION.match(line)
        if not match:
            continue
        names = [m.group(1)] if (m := _OP_NAME.search(line)) else []
        if (call := _CALLS.search(line)) and call.group(1) in inside:
            names += inside[call.group(1)]
        ops[match.group(1)] = (match.group(2), names[0] if names else "")
    return ops


def layer_of(op: str, source: str, depth: int) -> str:
    """``"fwd A/B/C"`` or ``"bwd A/B/C"`` for a source op name such as
    ``jit(train_step)/transpose(jvp(A))/B/C/conv_general_dilated``; without one, ``"? "`` and the
    kind of XLA op (``"? transpose_copy_fusion"``)."""
    if not source:
        return "? " + op.split(".")[0]
    backward = "transpose(" in source
    path = re.sub(r"^jit\([^)]*\)/", "", source)
    path = re.sub(r"(transpose\()?(jvp\()?", "", path).replace(")", "")
    return ("bwd " if backward else "fwd ") + "/".join(path.split("/")[:depth])


def op_times(trace_dir: str, ops: dict) -> collections.Counter:
    """Microseconds per HLO instruction, summed over the trace (only instructions of ``ops``)."""
    path = glob.glob(os.path.join(trace_dir, "**", "*.trace.json.gz"), recursive=True)[0]
    with gzip.open(path) as f:
        events = json.load(f)["traceEvents"]
    total: collections.Counter = collections.Counter()
    for event in events:
        if event.get("ph") == "X" and event.get("name") in ops:
            total[event["name"]] += event["dur"]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="a config file, e.g. configs/learning_test.py")
    parser.add_argument("--steps", type=int, default=20, help="traced steps")
    parser.add_argument("--warmup", type=int, default=3, help="untraced steps after compiling")
    parser.add_argument("--top", type=int, default=25, help="rows of each table")
    parser.add_argument("--depth", type=int, default=3, help="name parts that make a layer")
    parser.add_argument("--trace_dir", help="keep the trace here (default: a temporary folder)")
    args, overrides = parser.parse_known_args()
    bad = [a for a in overrides if not a.startswith("--config.")]
    if bad:
        parser.error(f"unexpected arguments {bad}; only --config.<key>=<value> overrides pass on")

    sys.path.insert(0, os.path.join(REPO, "src"))
    from slot_jax.commands import benchmark
    from slot_jax.commands.startup import prepare_process

    prepare_process()  # as the command lines set their process up, before JAX starts
    import jax

    from slot_jax.config_base import load_config

    untraced = 1 + args.warmup
    try:
        config = load_config(args.config, overrides)
        _, step_fn, state, batch, keys = benchmark.prepared_step(config, untraced + args.steps)
    except (OSError, ValueError) as err:  # a missing or bad config: one line, no traceback
        sys.exit("error: " + " ".join(str(err).split()))
    compiled = step_fn.lower(state, batch, keys[0]).compile()
    for i in range(untraced):
        state, _ = compiled(state, batch, keys[i])
    jax.block_until_ready(state)
    trace_dir = args.trace_dir or tempfile.mkdtemp(prefix="slot_jax_profile_")
    with jax.profiler.trace(trace_dir):
        start = time.perf_counter()
        for i in range(untraced, untraced + args.steps):
            state, _ = compiled(state, batch, keys[i])
        jax.block_until_ready(state)
        wall_ms = (time.perf_counter() - start) / args.steps * 1e3

    ops = source_ops(compiled.as_text())
    times = op_times(trace_dir, ops)
    per_step = {name: us / args.steps / 1e3 for name, us in times.items()}
    print(f"{'ms/step':>9}  {'XLA op':32} {'shape':32} source op")
    for name, ms in sorted(per_step.items(), key=lambda kv: -kv[1])[:args.top]:
        shape, source = ops[name]
        print(f"{ms:9.3f}  {name:32} {shape:32} {source.split('/', 1)[-1][-70:]}")
    layers: collections.Counter = collections.Counter()
    for name, ms in per_step.items():
        layers[layer_of(name, ops[name][1], args.depth)] += ms
    print(f"\n{'ms/step':>9}  layer")
    for layer, ms in layers.most_common(args.top):
        print(f"{ms:9.3f}  {layer}")
    print(f"\nops {sum(per_step.values()):.1f} ms per step; wall {wall_ms:.1f} ms per step "
          f"(traced, {args.steps} steps); trace in {trace_dir}")


if __name__ == "__main__":
    main()
