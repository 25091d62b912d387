"""benchmarks/cpu_vs_tf.py: its Keras model is the official architecture, and the script runs."""

import json
import subprocess
import sys

from conftest import REPO

from slot_jax.config_base import load_config


def test_keras_model_has_the_official_parameter_count():
    import tensorflow as tf

    from slot_jax.testing import keras_model

    config = load_config(str(REPO / "configs" / "procedural_clevr.py"))
    model = keras_model.build_model(config.model, 1)
    recon = model(tf.zeros([1, 128, 128, 3]))[0]
    assert tuple(recon.shape) == (1, 128, 128, 3)
    # the official CLEVR object-discovery model's count (../shared/DESIGN.md section 1)
    assert sum(v.shape.num_elements() for v in model.trainable_variables) == 890_308


def test_script_prints_both_measurements_and_the_ratio():
    done = subprocess.run(
        [sys.executable, "benchmarks/cpu_vs_tf.py", "--cases=learning_test", "--steps=1",
         "--warmup=0", "--config.batch_size=4"],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line.get("library", "ratio") for line in lines] == ["jax", "tf", "ratio"]
    assert all(line["step_s_median"] > 0 for line in lines[:2])
    assert lines[2]["wall"] == lines[0]["step_s_median"] / lines[1]["step_s_median"]
