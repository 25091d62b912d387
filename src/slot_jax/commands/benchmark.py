"""The train-step and input-pipeline benchmark, ``python -m slot_jax.benchmark`` (its usage and
modes are in :mod:`slot_jax.benchmark`), and the functions it runs: :func:`run` (one JSON-ready
result), :func:`prepared_step` and :func:`synthetic_batch`, which ``benchmarks/`` and the tests use
too."""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import ml_collections
import numpy as np
from absl import app, flags, logging
from ml_collections import config_flags

from slot_jax.commands import cli
from slot_jax.commands.startup import prepare_process
from slot_jax.lib.hlo_audit import audit_hlo
from slot_jax.lib.parallel import DataParallel
from slot_jax.properties import NUM_PROPERTIES

MODES = ("step", "data")


def architecture_name(model_cfg: ml_collections.ConfigDict) -> str:
    """``"set_prediction"`` or ``"savi"``; else ``"clevr"`` for a strided (upsampling) broadcast
    decoder and ``"sprites"`` for a full-resolution one.

    The autoencoder names match the PyTorch peer's ``--arch`` values.
    """
    if model_cfg.architecture in ("set_prediction", "savi"):
        return model_cfg.architecture
    return "clevr" if math.prod(model_cfg.decoder.strides) > 1 else "sprites"


def _flops(cost: Any) -> float | None:
    """The ``flops`` entry of ``compiled.cost_analysis()`` (a dict, or a list of dicts)."""
    if cost is None:
        return None
    entries = cost if isinstance(cost, (list, tuple)) else [cost]
    values = [float(e["flops"]) for e in entries if isinstance(e, dict) and "flops" in e]
    return sum(values) if values else None


def _memory(compiled: Any, device: jax.Device) -> dict[str, int | None]:
    """Peak allocator bytes (accelerators) and the compiled program's own byte counts (all backends).

    Both are per device.
    """
    stats = device.memory_stats() or {}
    out: dict[str, int | None] = {"peak_bytes_in_use": stats.get("peak_bytes_in_use")}
    try:
        mem = compiled.memory_analysis()
    except Exception:  # noqa: BLE001 - not implemented on some backends
        mem = None
    names = ("temp", "argument", "output", "alias")
    for name in names:
        value = getattr(mem, f"{name}_size_in_bytes", None) if mem is not None else None
        out[f"compiled_{name}_bytes"] = None if value is None else int(value)
    parts = [out[f"compiled_{n}_bytes"] for n in ("temp", "argument", "output")]
    out["compiled_total_bytes"] = None if None in parts else sum(parts)
    return out


def synthetic_batch(
    config: ml_collections.ConfigDict, par: DataParallel, frames: int | None = None
) -> dict[str, Any]:
    """Uniform random images in [-1, 1] of the config's shape and global batch, on device.

    Set prediction also gets ``targets [B, max_set_size, 19]``: random properties, all objects real.
    A video model (``architecture="savi"``) gets ``video [B, frames, H, W, C]`` instead of images,
    and random ``boxes [B, frames, K - 1, 4]`` and ``centers [B, frames, K - 1, 2]`` in [0, 1].
    """
    h, w = config.model.image_size
    rng = np.random.default_rng(config.seed)
    b, k = config.batch_size, config.model.num_slots
    shape = (b, h, w, config.model.num_channels)
    if config.model.architecture == "savi":
        video = rng.uniform(-1.0, 1.0, (b, frames or 1, *shape[1:])).astype(np.float32)
        corners = np.sort(rng.uniform(0.0, 1.0, (b, frames or 1, k - 1, 2, 2)), axis=-2)
        host = {"video": video, "boxes": corners.reshape(*corners.shape[:3], 4).astype(np.float32),
                "centers": corners.mean(axis=-2).astype(np.float32)}
    else:
        host = {"image": rng.uniform(-1.0, 1.0, shape).astype(np.float32)}
    if config.model.architecture == "set_prediction":
        targets = rng.uniform(0.0, 1.0, (config.batch_size, config.data.max_set_size, NUM_PROPERTIES))
        targets[..., -1] = 1.0
        host["targets"] = targets.astype(np.float32)
    batch = par.shard_batch(host)
    if par.mode == "pmap":  # shard_batch only reshapes; place the shards once, up front
        batch = jax.pmap(lambda b: b, devices=par.local_devices)(batch)
    return batch


def _load() -> list[float] | None:
    """The host's 1, 5 and 15 minute load averages (other jobs on a shared machine skew timings)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _common(config: ml_collections.ConfigDict) -> dict[str, Any]:
    device = jax.local_devices()[0]
    return {
        "architecture": architecture_name(config.model),
        "image_size": list(config.model.image_size),
        "num_slots": int(config.model.num_slots),
        "dtype": config.dtype,
        "batch_size": int(config.batch_size),
        "device_kind": device.device_kind,
        "platform": device.platform,
        "num_devices": jax.device_count(),
        "jax_version": jax.__version__,
        "host": platform.node(),
        "host_cpus": os.cpu_count(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }


def prepared_step(
    config: ml_collections.ConfigDict, num_keys: int
) -> tuple[DataParallel, Callable, Any, dict[str, Any], list]:
    """What timing and profiling the step share: ``(par, train_step, state, batch, keys)``, the
    trainer's own (uncompiled) train step for ``config``, its replicated initial state,
    :func:`synthetic_batch` and ``num_keys`` step keys, all on device."""
    from slot_jax.train.setup import build_setup  # imports TensorFlow: after prepare_process

    run = build_setup(config)
    par = run.par
    state = par.replicate(run.init_state())
    batch = synthetic_batch(config, par, run.dataset.num_frames)
    base = jax.random.key(config.seed)
    keys = [jax.random.fold_in(base, i) for i in range(num_keys)]
    if par.mode == "mesh":
        keys = jax.device_put(keys, par.replicated)
    jax.block_until_ready((state, batch, keys))
    return par, run.train_step, state, batch, keys


def step_benchmark(
    config: ml_collections.ConfigDict, steps: int, warmup: int, peak_tflops: float | None
) -> dict[str, Any]:
    """Times the compiled train step; see the module docstring."""
    par, step_fn, state, batch, keys = prepared_step(config, warmup + steps)
    start = time.perf_counter()
    compiled = step_fn.lower(state, batch, keys[0]).compile()
    compile_s = time.perf_counter() - start
    logging.info("Compiled the train step in %.1f s.", compile_s)

    times, cpu_times, load_start = [], [], _load()
    for i in range(warmup + steps):
        start, cpu_start = time.perf_counter(), time.process_time()
        state, metrics = compiled(state, batch, keys[i])
        jax.block_until_ready((state, metrics))
        elapsed = time.perf_counter() - start
        if i >= warmup:
            times.append(elapsed)
            cpu_times.append(time.process_time() - cpu_start)
        logging.info("Step %d: %.3f s%s", i, elapsed, " (warm-up)" if i < warmup else "")
    loss = float(np.asarray(par.first(metrics)["loss"]))

    median = statistics.median(times)
    per_device = _flops(compiled.cost_analysis())
    n = len(par.devices)
    flops = None if per_device is None else per_device * n
    achieved = None if flops is None else flops / median / 1e12
    mfu = None
    if achieved is not None and peak_tflops:
        mfu = achieved / (peak_tflops * n)
    return {
        "mode": "step",
        **_common(config),
        "parallelism": par.mode,
        "steps": steps,
        "warmup": warmup,
        "compile_s": compile_s,
        "step_s_median": median,
        "step_s_min": min(times),
        "step_s_max": max(times),
        "img_per_s": config.batch_size / median,
        "step_cpu_s_median": statistics.median(cpu_times),
        "load_avg_start": load_start,
        "load_avg_end": _load(),
        "flops_per_step": flops,
        "flops_per_image": None if flops is None else flops / config.batch_size,
        "achieved_tflops": achieved,
        "peak_tflops": peak_tflops,
        "mfu": mfu,
        **_memory(compiled, par.local_devices[0]),
        "hlo": audit_hlo(compiled.as_text()),
        "final_loss": loss,
    }


def data_benchmark(config: ml_collections.ConfigDict, steps: int, warmup: int) -> dict[str, Any]:
    """Times ``train_iterator``: examples/s over ``steps`` batches after ``warmup`` batches.

    Building the iterator (which may generate a procedural dataset) and the warm-up batches are
    timed separately and excluded from the rate.
    """
    from slot_jax.data.iterators import source_name  # imports TensorFlow: after prepare_process
    from slot_jax.train.setup import build_setup

    start = time.perf_counter()
    batches = build_setup(config).train_batches()
    setup_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(warmup):
        batch = next(batches)
    warmup_s = time.perf_counter() - start
    start, load_start = time.perf_counter(), _load()
    for _ in range(steps):
        batch = next(batches)
    elapsed = time.perf_counter() - start
    local = len(batch["video" if "video" in batch else "image"])
    return {
        "mode": "data",
        **_common(config),
        "dataset": config.data.name,
        "source": source_name(config.data),
        "cache": bool(config.data.get("cache", True)),
        "steps": steps,
        "warmup": warmup,
        "setup_s": setup_s,
        "warmup_s": warmup_s,
        "elapsed_s": elapsed,
        "examples_per_s": steps * local / elapsed,
        "batches_per_s": steps / elapsed,
        "load_avg_start": load_start,
        "load_avg_end": _load(),
        "batch_shapes": {k: list(v.shape) for k, v in batch.items()},
    }


def run(
    config: ml_collections.ConfigDict,
    mode: str = "step",
    steps: int = 20,
    warmup: int = 3,
    peak_tflops: float | None = None,
) -> dict[str, Any]:
    """Runs one benchmark and returns its JSON-ready result."""
    if mode not in MODES:
        raise ValueError(f"Unknown benchmark mode {mode!r}; choose one of {MODES}.")
    if steps < 1 or warmup < 0:
        raise ValueError(f"Need steps >= 1 and warmup >= 0, got steps={steps}, warmup={warmup}.")
    if mode == "step":
        return step_benchmark(config, steps, warmup, peak_tflops)
    return data_benchmark(config, steps, warmup)


def define_flags() -> dict[str, flags.FlagHolder]:
    """The command-line flags (defined on use, so importing this module defines none)."""
    return {
        "config": cli.define_config_flag(),
        "mode": flags.DEFINE_enum("mode", "step", list(MODES), "step: train step; data: input."),
        "steps": flags.DEFINE_integer("steps", 20, "Timed steps (or batches)."),
        "warmup": flags.DEFINE_integer("warmup", 3, "Untimed steps (or batches) before timing."),
        "peak_tflops": flags.DEFINE_float(
            "peak_tflops", None, "Dense peak TFLOP/s of one device, for MFU."
        ),
    }


def benchmark(args: dict[str, flags.FlagHolder], argv: list[str]) -> None:
    """Runs the benchmark the flags ask for: one JSON line on stdout, logs on stderr."""
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    values = {k: v.value for k, v in args.items()}
    with contextlib.redirect_stdout(sys.stderr):  # e.g. TFDS's "preparing dataset" lines
        result = run(**values)
    result["config"] = config_flags.get_config_filename(flags.FLAGS["config"])
    print(json.dumps(result), file=sys.stdout, flush=True)


def main() -> None:
    """``python -m slot_jax.benchmark``: the process settings first, then the flags and the run."""
    prepare_process()
    cli.run(functools.partial(benchmark, define_flags()))
