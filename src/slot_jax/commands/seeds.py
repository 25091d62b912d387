"""The multi-seed command line, ``python -m slot_jax.seeds`` (its usage is in
:mod:`slot_jax.seeds`), and :func:`run_seeds`, which it and the learning test run: one
``python -m slot_jax.main`` process per seed, each pinned to its own CPU core with one JAX device."""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from absl import app, flags
from ml_collections import config_flags

from slot_jax.commands import cli
from slot_jax.commands.startup import prepare_process
from slot_jax.config_base import load_config

if TYPE_CHECKING:
    from slot_jax.evaluation.results import Curve

STOP_GRACE_S = 60  # a stopped seed's process gets this long to save its checkpoint (SIGTERM)

_DEVICE_COUNT_FLAG = re.compile(r"--xla_force_host_platform_device_count=\d+")


def seed_command(config_file: str, workdir: str, seed: int, overrides: Sequence[str] = ()) -> list[str]:
    """The trainer's command line for one seed, training in ``workdir``."""
    return [sys.executable, "-m", "slot_jax.main", f"--config={config_file}", f"--workdir={workdir}",
            *overrides, f"--config.seed={seed}"]


def one_device_env() -> dict[str, str]:
    """This environment with any forced host device count removed: each process gets one device."""
    env = dict(os.environ)
    env["XLA_FLAGS"] = _DEVICE_COUNT_FLAG.sub("", env.get("XLA_FLAGS", "")).strip()
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def _tail(path: str, lines: int = 15) -> str:
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-lines:])


def run_seeds(
    config_file: str,
    workdir: str,
    seeds: Sequence[int],
    overrides: Sequence[str] = (),
    cores: Sequence[int] | None = None,
    timeout_s: float | None = None,
) -> dict[int, Curve]:
    """Trains ``config_file`` once per seed, at most one process per core; returns each curve.

    ``cores`` defaults to the cores this process may run on. A seed whose process fails, or a run
    past ``timeout_s``, stops every process and raises with the seed's log tail
    (``workdir/seed_<S>.log``). Stopped processes get SIGTERM, so each saves the step it reached,
    and a rerun of the same call resumes every seed from its checkpoint.
    """
    from slot_jax.data.iterators import resolve_source  # imports TensorFlow: after prepare_process
    from slot_jax.evaluation.results import read_curve

    data = load_config(config_file, overrides).data
    if resolve_source(data) == "tfds":  # once, not once per process
        from slot_jax.data.sources import prepare_builder

        prepare_builder(data)
    os.makedirs(workdir, exist_ok=True)
    free = list(cores if cores is not None else sorted(os.sched_getaffinity(0)))
    pending, running, deadline = list(seeds), {}, time.time() + (timeout_s or float("inf"))
    env = one_device_env()
    try:
        while pending or running:
            while pending and free:
                seed, core = pending.pop(0), free.pop(0)
                log = open(os.path.join(workdir, f"seed_{seed}.log"), "w")
                proc = subprocess.Popen(
                    seed_command(config_file, os.path.join(workdir, f"seed_{seed}"), seed, overrides),
                    stdout=log, stderr=subprocess.STDOUT, env=env,
                    preexec_fn=lambda core=core: os.sched_setaffinity(0, {core}),
                )
                running[seed] = (proc, core, log)
            for seed, (proc, core, log) in list(running.items()):
                if proc.poll() is None:
                    continue
                log.close()
                del running[seed]
                free.append(core)
                if proc.returncode:
                    raise RuntimeError(
                        f"Seed {seed} failed (exit {proc.returncode}); the end of {log.name}:\n"
                        + _tail(log.name)
                    )
            if time.time() > deadline:
                raise TimeoutError(f"Seeds {sorted(running)} still training after {timeout_s:.0f} s.")
            time.sleep(0.5)
    finally:  # a failure, a timeout or an interrupt: stop the rest, letting each save its step
        for proc, _, _ in running.values():
            proc.terminate()
        for proc, _, log in running.values():
            try:
                proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
    return {seed: read_curve(os.path.join(workdir, f"seed_{seed}")) for seed in seeds}


def define_flags() -> dict[str, flags.FlagHolder]:
    """The command's flags (defined on use, so importing this module defines none)."""
    args = {
        "config": cli.define_config_flag(),
        "workdir": flags.DEFINE_string("workdir", None, "One sub-directory per seed goes here."),
        "seeds": flags.DEFINE_string("seeds", "0,1", "Comma-separated seeds (default 0,1)."),
    }
    flags.mark_flags_as_required(["workdir"])
    return args


def train_seeds(args: dict[str, flags.FlagHolder], argv: list[str]) -> None:
    """Trains ``--config`` on each of ``--seeds`` in ``--workdir``, each with the command line's
    ``--config.<key>=<value>`` overrides; prints each seed's final metrics beside the trivial
    baselines (:mod:`slot_jax.evaluation.baselines`) and writes them, with every curve, to
    ``<workdir>/seeds.json``."""
    if len(argv) > 1:
        raise app.UsageError(
            f"unexpected arguments {' '.join(argv[1:])}; overrides look like --config.<key>=<value>."
        )
    try:
        seeds = [int(s) for s in args["seeds"].value.split(",")]
    except ValueError:
        raise app.UsageError(
            f"--seeds={args['seeds'].value!r} is not a comma-separated list of integers."
        ) from None
    overrides = cli.config_overrides(sys.argv)  # as typed: each seed's process gets them too
    spaced = [arg for arg in overrides if "=" not in arg]
    if spaced:
        raise app.UsageError(f"{spaced[0]} has no '='; write overrides as --config.<key>=<value>.")
    from slot_jax.evaluation.baselines import baseline_fg_aris

    config_file = config_flags.get_config_filename(flags.FLAGS["config"])
    workdir = args["workdir"].value
    stopped = "error: SIGTERM: every seed stopped; rerun the command to resume them."
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(stopped))
    try:
        curves = run_seeds(config_file, workdir, seeds, overrides)
    except (RuntimeError, TimeoutError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")  # a failed seed's log tail keeps its lines
    baselines = baseline_fg_aris(args["config"].value)
    with open(os.path.join(workdir, "seeds.json"), "w") as f:
        json.dump({"config": config_file, "overrides": overrides, "baselines": baselines,
                   "curves": {str(s): c for s, c in curves.items()}}, f, indent=1)
    print("baselines: " + ", ".join(f"{k} FG-ARI {v:.3f}" for k, v in baselines.items()))
    for seed, curve in curves.items():
        step, final = max(curve.items()) if curve else (None, {})
        print(f"seed {seed}: step {step} " + " ".join(f"{k} {v:.3f}" for k, v in final.items()))


def main() -> None:
    """``python -m slot_jax.seeds``: the process settings first, then the flags and the run."""
    prepare_process()
    cli.run(functools.partial(train_seeds, define_flags()))
