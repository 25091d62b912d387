"""The README's first command, end to end: its ``python -m slot_jax.main`` part exactly as the
README writes it (the install before it is what the test environment already did), on a shortened
schedule and a temporary workdir. The run must end by printing the held-out FG-ARI and mBO beside
the baselines and the paths of the slot grid and the metrics JSON, with quiet, plain output."""

import json
import os
import re
import shlex
import subprocess
import sys

from conftest import REPO

SHORT = ["--config.num_train_steps=6", "--config.warmup_steps=2", "--config.eval_every=6",
         "--config.checkpoint_every=6", "--config.data.num_train=64", "--config.data.num_eval=32",
         "--config.eval_batch_size=32", "--config.batch_size=8"]


def readme_train_command() -> list[str]:
    """The ``python -m slot_jax.main ...`` part of the first command of the README's Quickstart."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"## Quickstart.*?```bash\n(.*?)```", text, re.S).group(1)
    parts = [p.strip() for p in " ".join(block.split("\\\n")).split("&&")]
    train = [p for p in parts if p.startswith("python -m slot_jax.main")]
    assert train, f"no 'python -m slot_jax.main' in the README's first command: {block!r}"
    return shlex.split(train[0])


def test_the_readme_quickstart_command_ends_with_its_results(tmp_path):
    argv = readme_train_command()
    assert "--config=configs/quickstart.py" in argv
    argv = [a if not a.startswith("--workdir=") else f"--workdir={tmp_path / 'run'}" for a in argv]
    env = dict(os.environ, XLA_FLAGS="")  # one device, as on a laptop
    proc = subprocess.run([sys.executable, *argv[1:], *SHORT], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout.strip().splitlines()
    assert out[0] == "Held-out results at step 6 (32 images):", out
    for line, name in zip(out[1:3], ("FG-ARI", "mBO"), strict=True):
        assert re.fullmatch(
            rf"  {name} +-?\d\.\d{{3}} +\(one segment -?\d\.\d{{3}}, fixed grid of 5 blocks "
            r"-?\d\.\d{3}\)", line), line
    png, metrics = out[-2], out[-1]
    assert png.startswith("Slot grid: ") and metrics.startswith("Metrics: "), out
    with open(png.removeprefix("Slot grid: "), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(metrics.removeprefix("Metrics: ")) as f:
        result = json.load(f)
    assert result["step"] == 6 and result["metrics"]["fg_ari"]["num_images"] == 32
    assert f"{result['metrics']['fg_ari']['mean']:.3f}" in out[1]
    err = proc.stderr
    assert "Traceback" not in err and "\r" not in err  # no redrawn bars without a terminal
    assert "Downloading" not in err and "Unknown size" not in err
    assert "Generating procedural_multi_dsprites/quickstart train: 64 images" in err
