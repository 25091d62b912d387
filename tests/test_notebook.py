"""The Colab notebook runs top to bottom on CPU and shows its plots, the slot grid and the FG-ARI.

``notebooks/slot_jax_colab.py`` (jupytext percent format) is the notebook's source; the committed
``slot_jax_colab.ipynb`` is built from it and executed, so that readers on GitHub see the outputs.
The execution test builds the notebook from the source in memory (no file is written) and runs it
with nbclient in the ``python3`` kernel, which runs this Python and inherits the suite's 4 CPU
devices from ``XLA_FLAGS``. Its parameter defaults are already CPU-sized; only the working and data
directories are injected, papermill-style.
"""

import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

REPO = Path(__file__).parents[1]
NOTEBOOKS = REPO / "notebooks"
SOURCE = NOTEBOOKS / "slot_jax_colab.py"
NOTEBOOK = NOTEBOOKS / "slot_jax_colab.ipynb"
# Also in the README. `jupyter execute` would add nbclient's timestamps and keep every progress-bar
# update as an output of its own, hence python -c.
REGENERATE = (
    "cd notebooks && jupytext --update --to ipynb slot_jax_colab.py && python -c \"import nbclient, "
    "nbformat; nb = nbformat.read('slot_jax_colab.ipynb', 4); nbclient.execute(nb, cwd='.', "
    "record_timing=False, coalesce_streams=True); nbformat.write(nb, 'slot_jax_colab.ipynb')\""
)


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _cells(nb) -> list[tuple[str, list[str], str]]:
    """(type, tags, source) of each cell, papermill's injected-parameters cell aside."""
    return [
        (c.cell_type, _tags(c), c.source) for c in nb.cells if "injected-parameters" not in _tags(c)
    ]


def _inject_parameters(nb, overrides: dict):
    """Inserts a cell tagged ``injected-parameters`` assigning ``overrides`` after the cell tagged
    ``parameters``, as papermill does."""
    index = next(i for i, cell in enumerate(nb.cells) if "parameters" in _tags(cell))
    source = "\n".join(f"{name} = {value!r}" for name, value in overrides.items())
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index + 1, cell)
    return nb


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


def test_committed_notebook_is_current_and_small():
    regenerate = f"regenerate it with: {REGENERATE}"
    assert REGENERATE in (REPO / "README.md").read_text()
    source = jupytext.read(SOURCE)
    committed = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(committed)
    assert NOTEBOOK.stat().st_size < 1_000_000, f"{NOTEBOOK.name} is over 1 MB; {regenerate}"
    # The committed cells are the ones of the source (outputs and injected cells aside).
    stale = f"{NOTEBOOK.name} does not hold the cells of {SOURCE.name}; {regenerate}"
    assert _cells(committed) == _cells(source), stale
    tagged = [c for c in committed.cells if "parameters" in _tags(c)]
    assert len(tagged) == 1 and "NUM_STEPS" in tagged[0].source
    assert committed.metadata.kernelspec.name == "python3"
    # It was executed top to bottom, without timing metadata; outputs, including images, are kept
    # for readers on GitHub.
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), f"{NOTEBOOK.name} is not executed; {regenerate}"
    assert not [c for c in committed.cells if "execution" in c.metadata], regenerate
    assert any("image/png" in out.get("data", {}) for c in code for out in c.outputs), regenerate


@pytest.mark.slow
def test_notebook_executes_on_cpu(tmp_path, tfds_dir):
    from jupyter_client.manager import KernelManager

    # The python3 kernel spec (ipykernel's, argv "python ...") starts this Python, so the kernel
    # imports this slot_jax and gets this environment (XLA_FLAGS, PYTHONPATH).
    assert KernelManager(kernel_name="python3").format_kernel_cmd()[0] == sys.executable
    before = {path: path.read_bytes() for path in (SOURCE, NOTEBOOK)}
    workdir = tmp_path / "workdir"
    nb = _inject_parameters(jupytext.read(SOURCE), {"WORKDIR": str(workdir), "DATA_DIR": tfds_dir})
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    start = time.time()
    client.execute()  # raises CellExecutionError on any error
    print(f"notebook executed in {time.time() - start:.0f} s")
    assert {path: path.read_bytes() for path in before} == before

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
    assert "recon: max |JAX - Keras| = " in text  # the official-format checkpoint converted
    assert "SAVi trained to step" in text and "track consistency" in text
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4  # data samples, loss curve, slot grid, video frame strip
    assert list((workdir / "eval").glob("metrics_*.json"))
    assert list((workdir / "video" / "eval").glob("frames_*.png"))
    assert (workdir / "checkpoints").is_dir()
