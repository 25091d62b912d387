"""benchmarks/profile_step.py (per-op and per-layer times of the train step from a trace) and
benchmarks/conv_shapes.py (each convolution shape alone)."""

import json
import subprocess
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import profile_step  # noqa: E402

HLO = """HloModule m

%fused_computation.1 (param_0: f32[2]) -> f32[2] {
  ROOT %m = f32[2]{0} negate(%param_0), metadata={op_name="jit(f)/transpose(jvp(M))/dec/conv_1/mul"}
}

ENTRY %main (p: f32[2]) -> f32[2] {
  %c = f32[2]{0} convolution(%p, %p), metadata={op_name="jit(f)/jvp(M)/dec/conv_1/conv"}
  %fusion.1 = f32[2]{0} fusion(%c), kind=kLoop, calls=%fused_computation.1
  ROOT %copy.3 = f32[2]{0} copy(%fusion.1)
}
"""


def test_source_ops_and_layers():
    ops = profile_step.source_ops(HLO)
    assert ops["c"] == ("f32[2]{0}", "jit(f)/jvp(M)/dec/conv_1/conv")
    assert ops["fusion.1"][1].endswith("dec/conv_1/mul")  # from inside the fused computation
    assert ops["copy.3"] == ("f32[2]{0}", "")
    assert profile_step.layer_of("c", ops["c"][1], 3) == "fwd M/dec/conv_1"
    assert profile_step.layer_of("fusion.1", ops["fusion.1"][1], 2) == "bwd M/dec"
    assert profile_step.layer_of("copy.3", "", 3) == "? copy"


def test_script_prints_both_tables():
    done = subprocess.run(
        [sys.executable, "benchmarks/profile_step.py", "--config=configs/learning_test.py",
         "--steps=1", "--warmup=0", "--config.batch_size=4", "--top=50"],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "fwd SlotAutoencoder/encoder/conv_0" in out and "bwd SlotAutoencoder/slot_attention" in out
    assert "ms per step; wall" in out.splitlines()[-1]


def test_a_bad_config_is_one_line():
    done = subprocess.run(
        [sys.executable, "benchmarks/profile_step.py", "--config=configs/learning_test.py",
         "--config.batch_size=3"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: config.batch_size=3")
    assert "Traceback" not in done.stderr


def test_conv_shapes_script_times_the_three_computations():
    done = subprocess.run(
        [sys.executable, "benchmarks/conv_shapes.py", "--shapes=learning_test_decoder",
         "--repeats=1"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    line = json.loads(done.stdout.strip().splitlines()[-1])
    assert line["shape"] == "learning_test_decoder" and line["channels"] == [16, 16]
    assert min(line["forward_ms"], line["input_grad_ms"], line["kernel_grad_ms"]) > 0
    assert "individual_convolution" in line["xla_flags"]  # the command lines' flags, applied
