"""The embedding example runs: init, jit and grad inside a user-defined parent module."""

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "examples" / "embed_slot_attention.py"


def test_embed_example_runs(capsys):
    spec = importlib.util.spec_from_file_location("embed_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shapes = module.main()
    assert shapes["slots"] == (8, 4, 32)
    assert shapes["attention"] == (8, 4, 100)
    assert "grad norm" in capsys.readouterr().out
