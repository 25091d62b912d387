"""Our compiled train step against a TF/Keras model of the same architecture, on this CPU.

    python benchmarks/cpu_vs_tf.py [--cases=clevr,sprites,learning_test] [--steps=5] [--warmup=2]
        [--cpus=0] [--only=jax|tf]

Each measurement runs in a fresh subprocess (one library's thread pools never share a process with
the other's), one after the other, and prints one JSON line on stdout: wall and CPU seconds per step
(medians), images per second. Then one ``ratio`` line per case: ours / TF, wall and CPU. ``--cpus``
pins every subprocess to those cores (``0`` is one core, as the learning test runs each seed).

Ours is ``slot_jax.benchmark``'s step benchmark: the trainer's own train step (model, Adam, loss,
donated state) on a fixed batch of uniform images in [-1, 1]. TF's is the Keras model of
``slot_jax.testing.keras_model`` built from the same config, with Adam in a ``tf.function``, on the
same images.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name: (config file, overrides)
CASES = {
    "clevr": ("configs/procedural_clevr.py", ["--config.batch_size=8"]),
    "sprites": ("configs/procedural_multi_dsprites.py", ["--config.batch_size=16"]),
    "learning_test": ("configs/learning_test.py", []),
}


def _config(case: str, extra: list[str]):
    from slot_jax.config_base import load_config

    path, overrides = CASES[case]
    return load_config(os.path.join(REPO, path), [*overrides, *extra])


def _images(config):
    import numpy as np

    h, w = config.model.image_size
    rng = np.random.default_rng(config.seed)  # as slot_jax.commands.benchmark.synthetic_batch
    shape = (config.batch_size, h, w, config.model.num_channels)
    return rng.uniform(-1.0, 1.0, shape).astype(np.float32)


def tf_worker(case: str, steps: int, warmup: int, extra: list[str]) -> dict:
    """Times the Keras model's train step on ``case``."""
    import tensorflow as tf

    from slot_jax.testing import keras_model

    config = _config(case, extra)
    model = keras_model.build_model(config.model, config.batch_size)
    step = keras_model.make_train_step(model, config.learning_rate)
    images = tf.constant(_images(config))
    start = time.perf_counter()
    step(images).numpy()  # traces, builds the variables, runs once
    compile_s = time.perf_counter() - start
    times, cpu = [], []
    for i in range(warmup + steps):
        start, cpu_start = time.perf_counter(), time.process_time()
        loss = float(step(images).numpy())
        if i >= warmup:
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - cpu_start)
    params = int(sum(v.shape.num_elements() for v in model.trainable_variables))
    return dict(library="tf", tf_version=tf.__version__, compile_s=compile_s, parameters=params,
                step_s_median=statistics.median(times), step_cpu_s_median=statistics.median(cpu),
                img_per_s=config.batch_size / statistics.median(times), final_loss=loss)


def jax_worker(case: str, steps: int, warmup: int, extra: list[str]) -> dict:
    """Times our train step on ``case`` (``slot_jax.benchmark``), in a process set up as the command
    lines set theirs up."""
    from slot_jax.commands import benchmark
    from slot_jax.commands.startup import prepare_process

    prepare_process()

    result = benchmark.run(_config(case, extra), "step", steps=steps, warmup=warmup)
    keep = ("jax_version", "compile_s", "step_s_median", "step_cpu_s_median", "img_per_s",
            "flops_per_step", "final_loss", "xla_flags")
    return dict(library="jax", **{k: result[k] for k in keep})


def _measure(library: str, case: str, args, extra: list[str]) -> dict:
    command = [sys.executable, os.path.abspath(__file__), f"--worker={library}", f"--cases={case}",
               f"--steps={args.steps}", f"--warmup={args.warmup}", *extra]
    if args.cpus:
        command = ["taskset", "-c", args.cpus, *command]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join([os.path.join(REPO, "src"), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"error: the {library} run of {case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES))
    parser.add_argument("--steps", type=int, default=5, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps after the first")
    parser.add_argument("--cpus", default="", help="taskset core list for every run, e.g. 0")
    parser.add_argument("--only", choices=("jax", "tf"), help="run one library only")
    parser.add_argument("--worker", choices=("jax", "tf"), help=argparse.SUPPRESS)
    args, extra = parser.parse_known_args()
    bad = [a for a in extra if not a.startswith("--config.")]
    cases = args.cases.split(",")
    unknown = [c for c in cases if c not in CASES]
    if bad or unknown:
        parser.error(f"unknown cases {unknown} (choose from {list(CASES)})" if unknown
                     else f"unexpected arguments {bad}; only --config.<key>=<value> overrides pass on")
    if args.worker:
        worker = tf_worker if args.worker == "tf" else jax_worker
        print(json.dumps(worker(cases[0], args.steps, args.warmup, extra)))
        return
    for case in cases:
        results = {}
        for library in ("jax", "tf"):
            if args.only and library != args.only:
                continue
            load = [round(x, 2) for x in os.getloadavg()]
            results[library] = dict(case=case, cpus=args.cpus or "all", load_avg_start=load,
                                    **_measure(library, case, args, extra))
            print(json.dumps(results[library]), flush=True)
        if len(results) == 2:
            ours, tf = results["jax"], results["tf"]
            print(json.dumps(dict(
                case=case, ratio="jax/tf",
                wall=ours["step_s_median"] / tf["step_s_median"],
                cpu=ours["step_cpu_s_median"] / tf["step_cpu_s_median"],
            )), flush=True)


if __name__ == "__main__":
    main()
