"""The package's imports run one way: no cycle among the modules of ``src/slot_jax``.

Every ``import`` statement counts, including those inside functions. Importing ``a.b.c`` from a
module outside package ``a.b`` also runs ``a/__init__.py`` and ``a/b/__init__.py``, so those count
as imported too; a module's own enclosing packages do not (they are already being imported).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"
PACKAGE = "slot_jax"


def module_names(src: Path = SRC) -> dict[str, Path]:
    """``dotted name -> file`` of every module; a package is named by its ``__init__.py``."""
    out = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imported(tree: ast.AST, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """The package modules a module's import statements name (``from p import m`` names ``p.m``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                package = name if is_package else name.rpartition(".")[0]
                package = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{package}.{base}" if base else package
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m in modules}


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """``module -> modules whose import it triggers`` (see the module docstring)."""
    files = module_names(src)
    graph = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)}
        edges = set()
        for target in _imported(ast.parse(path.read_text()), name, is_package, set(files)):
            parts = target.split(".")
            edges.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        graph[name] = {m for m in edges if m in files and m not in own}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 40 and graph["slot_jax.train.loop"], "the parser found no package imports"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_training_imports_evaluation_never_the_reverse():
    graph = import_graph()
    assert "slot_jax.evaluation" in graph["slot_jax.train.setup"]
    for name, targets in graph.items():
        if name.startswith("slot_jax.evaluation") or name.startswith("slot_jax.lib"):
            assert not [t for t in targets if t.startswith("slot_jax.train")], name
        if name.startswith(("slot_jax.models", "slot_jax.data", "slot_jax.lib")):
            assert not [t for t in targets if t.startswith("slot_jax.evaluation")], name


# ``python -m <entry file>`` runs the ``main()`` of ``slot_jax.commands.<its last part>``.
ENTRY_FILES = ("slot_jax.main", "slot_jax.convert", "slot_jax.benchmark", "slot_jax.seeds",
               "slot_jax.data.prepare")


def test_the_command_lines_sit_on_top():
    """Nothing imports the command lines (``slot_jax.commands``) but their entry files, which import
    their command alone; so ``data/``, say, sits below them."""
    graph = import_graph()
    assert "slot_jax.train" in graph["slot_jax.commands.main"]
    for name, targets in graph.items():
        commands = {t for t in targets if t.startswith("slot_jax.commands")}
        if name in ENTRY_FILES:
            command = "slot_jax.commands." + name.rpartition(".")[2]
            assert targets == {"slot_jax.commands", command}, name
        elif not name.startswith("slot_jax.commands"):
            assert not commands, name


@pytest.mark.parametrize(
    "files, cycle",
    [
        # A lazy import inside a function is still an edge.
        ({"a.py": "def f():\n    import slot_jax.b\n", "b.py": "from slot_jax import a\n"},
         ["slot_jax.a", "slot_jax.b", "slot_jax.a"]),
        # Importing p.m from outside p runs p/__init__.py, which imports back.
        ({"p/__init__.py": "from slot_jax.p.m import x\nfrom slot_jax import q\n",
          "p/m.py": "x = 1\n", "q.py": "from slot_jax.p.m import x\n"},
         ["slot_jax.p", "slot_jax.q", "slot_jax.p"]),
        # Relative imports resolve; a sibling import inside a package is no cycle.
        ({"p/__init__.py": "from .m import x\n", "p/m.py": "from . import n\nx = 1\n",
          "p/n.py": "y = 2\n"}, None),
    ],
)
def test_cycle_finder(tmp_path, files, cycle):
    for name, text in {"__init__.py": "", **files}.items():
        path = tmp_path / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert find_cycle(import_graph(tmp_path)) == cycle


def test_public_api_is_unchanged():
    import slot_jax

    public = {
        "CNNEncoder", "ConvTransposeSubpixel", "CoordinateInit", "GaussianSlotInit",
        "InvariantSlotAttention",
        "InvariantSlotAutoencoder", "LearnedQueriesInit", "PoseSlotInit", "RelativeBroadcastDecoder",
        "SetPredictionModel", "SlotAttention", "SlotAutoencoder", "SoftPositionEmbed",
        "SpatialBroadcastDecoder", "adjusted_rand_index", "alpha_composite", "ap_at_thresholds",
        "build_grid", "build_linear_grid", "build_model", "clevr_model_config",
        "invariant_model_config", "isa_clevr_model_config", "isa_tetrominoes_model_config",
        "hungarian_huber_loss", "hungarian_miou",
        "mean_best_overlap", "segmentation_metrics", "set_prediction_model_config",
        "sprites_model_config", "SAVi", "TransformerBlock", "savi_model_config",
    }
    assert set(slot_jax.__all__) == public
    assert all(callable(getattr(slot_jax, name)) for name in public)


def test_metrics_import_without_the_evaluator():
    """``slot_jax`` and its metrics load neither the evaluator, the trainer, the data nor TensorFlow
    (``slot_jax.evaluation`` loads its public names on first use)."""
    code = (
        "import sys, slot_jax\n"
        "from slot_jax.evaluation.metrics import adjusted_rand_index\n"
        "from slot_jax.evaluation.visualize import slot_grid\n"
        "heavy = ('tensorflow', 'slot_jax.evaluation.evaluator', 'slot_jax.train', 'slot_jax.data')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
        "from slot_jax.evaluation import Evaluator, summarize\n"
        "print(Evaluator.__module__, summarize.__module__)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.splitlines()
    assert out == ["[]", "slot_jax.evaluation.evaluator slot_jax.evaluation.summary"]
