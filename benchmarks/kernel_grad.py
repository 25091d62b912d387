"""XLA's own convolution kernel gradient against ``conv_grad``'s rows form, alone, per conv shape.

    python benchmarks/kernel_grad.py [--shapes=clevr_conv4,sprites_decoder,...] [--repeats=3]
    taskset -c 0 python benchmarks/kernel_grad.py --shapes=learning_test_decoder --repeats=50

Prints one JSON line per shape: the median milliseconds of each form (compiled, on a batch of
normal noise), their ratio, the largest difference relative to XLA's gradient, and whether
``conv2d`` takes the rows form for that shape. ``models/conv_grad.py``'s docstring table comes
from it (2-core VM, both cores; the learning-test row on one core).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name: (batch, image size, in channels, out channels, kernel size), as the train step has them
SHAPES = {
    "clevr_conv4": (56, 128, 64, 64, 5),  # CLEVR decoder's last 5x5 layer, batch 8 x 7 slots
    "clevr_subpixel": (56, 64, 64, 256, 3),  # CLEVR's last stride-2 layer in sub-pixel form
    "clevr_encoder": (8, 128, 64, 64, 5),
    "clevr_output": (56, 128, 64, 4, 3),
    "sprites_decoder": (96, 64, 32, 32, 5),  # batch 16 x 6 slots
    "sprites_encoder": (16, 64, 32, 32, 5),
    "learning_test_decoder": (128, 16, 16, 16, 3),  # batch 32 x 4 slots
}


def _median_ms(fn, *args, repeats: int) -> float:
    fn(*args).block_until_ready()  # compiles
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args).block_until_ready()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def measure(name: str, repeats: int) -> dict:
    """Both forms' kernel gradient for ``SHAPES[name]``."""
    import jax

    from slot_jax.models import conv_grad

    b, size, c, o, k = SHAPES[name]
    pad = ((k // 2, k // 2), (k // 2, k // 2))
    keys = jax.random.split(jax.random.key(0), 3)
    x = jax.random.normal(keys[0], (b, size, size, c))
    kernel = jax.random.normal(keys[1], (k, k, c, o)) * 0.1
    g = jax.random.normal(keys[2], (b, size, size, o))

    @jax.jit
    def xla(x, kernel, g):
        return jax.vjp(lambda w: conv_grad._conv(x, w, pad), kernel)[1](g)[0]

    rows = jax.jit(lambda x, g: conv_grad.rows_kernel_grad(x, g, kernel.shape, pad))
    xla_ms = _median_ms(xla, x, kernel, g, repeats=repeats)
    rows_ms = _median_ms(rows, x, g, repeats=repeats)
    ref = xla(x, kernel, g)
    error = float(abs(rows(x, g) - ref).max() / abs(ref).max())
    return dict(shape=name, batch=b, size=size, channels=[c, o], kernel=k, xla_ms=xla_ms,
                rows_ms=rows_ms, rows_over_xla=rows_ms / xla_ms, max_relative_difference=error,
                rows_taken=conv_grad.uses_rows_form(x.shape, g.shape),
                cpus=len(os.sched_getaffinity(0)), jax_version=jax.__version__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default=",".join(SHAPES),
                        help="comma-separated: " + ", ".join(SHAPES))
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each form")
    args = parser.parse_args()
    unknown = [s for s in args.shapes.split(",") if s not in SHAPES]
    if unknown:
        parser.error(f"unknown shapes {unknown} (choose from {list(SHAPES)})")
    sys.path.insert(0, os.path.join(REPO, "src"))
    from slot_jax.lib import xla_cpu

    xla_cpu.apply()  # as the command lines run
    for name in args.shapes.split(","):
        print(json.dumps(measure(name, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
