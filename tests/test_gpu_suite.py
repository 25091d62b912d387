"""Dry runs of the scripts for a lent GPU, on the CPU without TensorFlow (``tests/no_tensorflow``):
``benchmarks/gpu_suite.sh`` and two leases of ``experiments/reproduce.sh``, the second resuming
from the first's checkpoint as ``experiments/reproduction.py record`` leaves it. Tiny shapes and a
few steps; the real scripts run, with their size overrides. Also the waste checks of the compiled
step: no host round-trips, donated state, the GPU lowering's dtypes and convolution path."""

import json
import os
import re
import subprocess
import sys

import jax
import pytest
from conftest import REPO, tiny_clevr_config, tiny_train_config

from slot_jax.commands import benchmark
from slot_jax.lib.hlo_audit import audit_hlo, audit_stablehlo
from slot_jax.train import build_setup

sys.path.insert(0, str(REPO / "benchmarks"))
import gpu_suite  # noqa: E402

TINY = (
    "--config.batch_size=4 --config.model.image_size=(16,16) --config.data.image_size=(16,16) "
    "--config.model.decoder.broadcast_size=(16,16) --config.model.encoder.features=(8,) "
    "--config.model.encoder.strides=(1,) --config.model.encoder.mlp_features=(16,16) "
    "--config.model.decoder.features=(8,) --config.model.decoder.strides=(1,) "
    "--config.model.slot_size=16 --config.model.slot_attention.mlp_hidden_size=16 "
    "--config.model.slot_attention.num_iterations=1 --config.data.num_train=16 "
    "--config.data.num_eval=8 --config.eval_batch_size=4 --config.log_every=1 "
    "--config.image_log_every=0"
)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """No TensorFlow, one CPU device, no wheels, quick compiles cached for the runs to share."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "tests" / "no_tensorflow")
    flags = re.sub(r"--xla_force_host_platform_device_count=\d+", "", env.get("XLA_FLAGS", ""))
    # Tiny programs run once: compile them fast.
    fast = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
    env["XLA_FLAGS"] = f"{flags} {fast}"
    env.update(PYTHON=sys.executable, LEASE_INSTALL="0", JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
               JAX_COMPILATION_CACHE_DIR=str(tmp_path_factory.mktemp("xla_cache")))
    return env


def _run(command: list[str], env: dict, **extra) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, env={**env, **extra}, capture_output=True, text=True,
                          timeout=300)


def test_suite_dry_run(env, tmp_path):
    out = tmp_path / "out"
    cases = "step:sprites:float32,data:sprites,peer:sprites:eager:float32"
    proc = _run(["bash", "benchmarks/gpu_suite.sh", str(out)], env, SUITE_ONLY=cases,
                SUITE_STEPS="2", SUITE_WARMUP="1", SUITE_OVERRIDES=TINY, SUITE_PEAK_TFLOPS="1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in (out / "gpu_suite.jsonl").read_text().splitlines()]
    step, data, peer = lines
    assert step["case"] == "step:sprites:float32" and step["img_per_s"] > 0 and step["mfu"] > 0
    assert step["hlo"]["host_transfers"] == 0 and step["hlo"]["aliased_outputs"] > 0
    assert data["source"] == "memory" and data["examples_per_s"] > 0  # TensorFlow is absent
    if "skipped" in peer:  # torch is not a dependency; the peer runs on the GPU
        assert peer["skipped"] == "torch is not installed"
    else:
        assert peer["peer"] == "torch" and peer["img_per_s"] > 0
    table = (out / "gpu_suite.md").read_text()
    assert "| step:sprites:float32 |" in table and "| data:sprites |" in table
    assert table in proc.stdout  # printed last


def test_one_failing_case_keeps_the_others(tmp_path):
    with open(tmp_path / "log", "w") as log:
        failed = gpu_suite.run_case(gpu_suite.Case("bad", [sys.executable, "-c", "exit(3)"], 30),
                                    100, log)
        late = gpu_suite.run_case(gpu_suite.Case("late", ["true"], 30), 5, log)
    assert failed["rc"] == 3 and "error" in failed
    assert late["skipped"].startswith("time budget")
    table = gpu_suite.suite_table.render([failed, late], None)
    assert "- bad: exit 3" in table and "- late: skipped, time budget" in table


def _lease(env, tmp_path, number: int, steps: int) -> subprocess.CompletedProcess:
    overrides = f"{TINY} --config.num_train_steps={steps} --config.eval_every=2"
    proc = _run(["bash", "experiments/reproduce.sh", "multi_dsprites", "3"], env,
                OUT=str(tmp_path / f"out{number}"), REPRODUCE_WORKDIR=str(tmp_path / f"w{number}"),
                REPRODUCE_CARRIED=str(tmp_path / "repo" / ".lease" / "multi_dsprites"),
                REPRODUCE_NUM_TRAIN="16", REPRODUCE_RESERVE_S="5", REPRODUCE_OVERRIDES=overrides)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    record = _run([sys.executable, "experiments/reproduction.py", "record", "multi_dsprites",
                   str(tmp_path / f"out{number}"), f"--repo={tmp_path / 'repo'}"],
                  {**env, "PYTHONPATH": str(REPO / "src")})
    assert record.returncode == 0, record.stderr[-2000:]
    return proc


def test_reproduce_resumes_from_lease_to_lease(env, tmp_path):
    _lease(env, tmp_path, 1, steps=2)
    assert sorted(os.listdir(tmp_path / "out1")) == [
        "checkpoint.tar", "metrics.json", "slots.png", "train.log"]
    _lease(env, tmp_path, 2, steps=4)
    assert "Resumed from" in (tmp_path / "out2" / "train.log").read_text()
    folder = tmp_path / "repo" / "experiments" / "multi_dsprites"
    history = json.loads((folder / "curve.json").read_text())
    assert list(history["curve"]) == ["2", "4"]
    assert [(r["start_step"], r["end_step"]) for r in history["leases"]] == [(0, 2), (2, 4)]
    readme = (folder / "README.md").read_text()
    assert "| 4 | " in readme and "| 2 -> 4 |" in readme
    assert (folder / "fg_ari.png").exists() and (folder / "slots.png").exists()


@pytest.mark.parametrize("args, message", [
    (["sprites", "3"], "error: unknown NAME 'sprites'"), (["clevr6", "soon"], "is not a number"),
    (["clevr6"], "usage: experiments/reproduce.sh NAME MINUTES"),
])
def test_reproduce_bad_arguments(args, message):
    proc = subprocess.run(["bash", "experiments/reproduce.sh", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2 and message in proc.stderr


def test_gpu_lowering_has_no_waste():
    """The CUDA lowering of the tiny CLEVR-architecture step in bfloat16, on abstract inputs (no
    GPU needed): no custom calls (host callbacks), the whole state donated, every convolution and
    matmul in bf16, the sub-pixel layers as one packed convolution each (the CPU lowering has
    one per phase), and the plain ReLU and bias add (the CPU lowering has its own forms)."""
    config = tiny_train_config("/unused")
    config.model = tiny_clevr_config(num_slots=4)
    config.model.slot_attention.num_iterations = 1
    config.dtype, config.batch_size = "bfloat16", 4
    run = build_setup(config, devices=jax.devices()[:1])
    state = run.abstract_state()
    batch = jax.eval_shape(lambda: benchmark.synthetic_batch(config, run.par))
    key = jax.eval_shape(lambda: jax.random.key(0))
    gpu, cpu = (audit_stablehlo(jax.export.export(run.train_step, platforms=(p,))(state, batch, key)
                                .mlir_module()) for p in ("cuda", "cpu"))
    assert gpu["custom_calls"] == [] and gpu["donated_arguments"] == len(jax.tree.leaves(state))
    assert set(gpu["convolutions"]) == {"bf16"} and set(gpu["matmuls"]) == {"bf16"}
    assert gpu["ops"]["convolution"] < cpu["ops"]["convolution"]
    assert gpu["ops"]["maximum"] > cpu["ops"].get("maximum", 0)  # ops.relu
    assert gpu["ops"].get("select", 0) < cpu["ops"]["select"]
    assert gpu["ops"].get("reshape", 0) < cpu["ops"]["reshape"]  # ops.add_bias


def test_audit_hlo_counts():
    text = "\n".join([
        "HloModule m, input_output_alias={ {0}: (0, {}, may-alias) }",
        "  %a = bf16[2,2]{1,0} convolution(bf16[2,2]{1,0} %x, bf16[1,1]{1,0} %y), window={}",
        '  %b = (f32[4]{0}, u8[0]{0}) custom-call(f32[4]{0} %z), custom_call_target="__cublas$gemm"',
        '  %c = () custom-call(), custom_call_target="xla_python_gpu_callback"',
        "  ROOT %d = f32[2,2]{0,1} transpose(f32[2,2]{1,0} %a), dimensions={1,0}",
        "  %e = f32[2]{0} copy(f32[2]{0} %q)",
    ])
    assert audit_hlo(text) == {
        "host_transfers": 1, "transposes": 1, "copies": 1, "convolutions": {"bf16": 1},
        "matmuls": {"f32": 1}, "aliased_outputs": 1,
    }
