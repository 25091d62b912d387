"""The Colab notebook runs top to bottom on CPU and shows its plots, the slot grid and the FG-ARI.

The notebook is executed in memory with nbclient (the committed file is never written), in a kernel
started from this Python, which inherits the suite's 4 CPU devices from ``XLA_FLAGS``. Its committed
parameter defaults are already CPU-sized; only the working and data directories are injected.
"""

import importlib.util
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"
NOTEBOOK = NOTEBOOKS / "slot_jax_colab.ipynb"


def _load_tools():
    spec = importlib.util.spec_from_file_location("make_notebook", NOTEBOOKS / "make_notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


def test_committed_notebook_is_current_and_small():
    tools = _load_tools()
    committed = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(committed)
    assert NOTEBOOK.stat().st_size < 1_000_000
    # The committed cells are the ones make_notebook.py builds (outputs and injected cells aside).
    built = [c.source for c in tools.build().cells]
    sources = [
        c.source for c in committed.cells
        if "injected-parameters" not in c.metadata.get("tags", [])
    ]
    assert sources == built, "regenerate with: python notebooks/make_notebook.py --execute"
    tagged = [c for c in committed.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "NUM_STEPS" in tagged[0].source
    # It was executed: outputs, including images, are kept for readers on GitHub.
    assert any(
        "image/png" in out.get("data", {}) for c in committed.cells for out in c.get("outputs", [])
    )


@pytest.mark.slow
def test_notebook_executes_on_cpu(tmp_path, tfds_dir):
    tools = _load_tools()
    before = NOTEBOOK.read_bytes()
    nb = tools.inject_parameters(
        nbformat.read(NOTEBOOK, as_version=4),
        {"WORKDIR": str(tmp_path / "workdir"), "DATA_DIR": tfds_dir},
    )
    start = time.time()
    tools.execute(nb, cwd=NOTEBOOKS, timeout=600)  # raises CellExecutionError on any error
    elapsed = time.time() - start
    print(f"notebook executed in {elapsed:.0f} s")
    assert NOTEBOOK.read_bytes() == before

    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source[:80]
    text = "\n".join(_text(c) for c in code)
    assert "4 devices" in text  # the suite's XLA_FLAGS reach the kernel
    assert "batch: 16 = 4 devices x 4" in text
    assert "trained to step" in text
    assert "FG-ARI" in text
    assert "params equal the trained ones: True" in text
    assert "the whole state round-trips: True" in text
    assert "gradient norm" in text
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # data samples, loss curve, slot grid
    workdir = tmp_path / "workdir"
    assert list((workdir / "eval").glob("metrics_*.json"))
    assert (workdir / "checkpoints").is_dir()
