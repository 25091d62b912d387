"""Each convolution shape of the train steps alone: forward, input gradient, kernel gradient.

    python benchmarks/conv_shapes.py [--shapes=clevr_conv4,sprites_decoder,...] [--repeats=3]
    taskset -c 0 python benchmarks/conv_shapes.py --shapes=learning_test_decoder --repeats=50
    XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=+reduce python benchmarks/conv_shapes.py

Prints one JSON line per shape: the median milliseconds of each of the three, each compiled alone on
a batch of normal noise, with the XLA flags the command lines use (``slot_jax.lib.xla_cpu``; set
``XLA_FLAGS`` to compare others, as in the last line, XLA's defaults). On CPU the convolutions
that XLA runs itself are not in a ``jax.profiler`` trace, so ``benchmarks/profile_step.py`` cannot
time them: this script does.
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
    """The three computations of the convolution ``SHAPES[name]`` (stride 1, ``SAME``)."""
    import jax

    b, size, c, o, k = SHAPES[name]
    keys = jax.random.split(jax.random.key(0), 3)
    x = jax.random.normal(keys[0], (b, size, size, c))
    kernel = jax.random.normal(keys[1], (k, k, c, o)) * 0.1
    g = jax.random.normal(keys[2], (b, size, size, o))

    def conv(x, w):
        return jax.lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"))

    forward = jax.jit(conv)
    input_grad = jax.jit(lambda x, w, g: jax.vjp(lambda x_: conv(x_, w), x)[1](g)[0])
    kernel_grad = jax.jit(lambda x, w, g: jax.vjp(lambda w_: conv(x, w_), w)[1](g)[0])
    return dict(shape=name, batch=b, size=size, channels=[c, o], kernel=k,
                forward_ms=_median_ms(forward, x, kernel, repeats=repeats),
                input_grad_ms=_median_ms(input_grad, x, kernel, g, repeats=repeats),
                kernel_grad_ms=_median_ms(kernel_grad, x, kernel, g, repeats=repeats),
                cpus=len(os.sched_getaffinity(0)), jax_version=jax.__version__,
                xla_flags=os.environ.get("XLA_FLAGS", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default=",".join(SHAPES),
                        help="comma-separated: " + ", ".join(SHAPES))
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each computation")
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
