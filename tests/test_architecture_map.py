"""``docs/architecture.md`` matches the code.

- Its package table names every package and root module of ``src/slot_jax`` once, and each row's
  last column is exactly the set of other rows' packages that the row's modules import (every
  ``import`` statement counts, as in ``tests/test_imports.py``).
- Every file the map names (``train/setup.py``, ``lib/losses.py``, ...) exists.
"""

from __future__ import annotations

import re
from pathlib import Path

from test_imports import PACKAGE, SRC, import_graph

MAP = Path(__file__).parents[1] / "docs" / "architecture.md"
ROOT = "__init__.py"  # the package's own row: what ``import slot_jax`` exports


def units(src: Path = SRC) -> set[str]:
    """The package's parts: ``train/`` for a subpackage, ``config_base.py`` for a root module."""
    found = set()
    for path in (src / PACKAGE).iterdir():
        if path.is_dir() and (path / "__init__.py").exists():
            found.add(path.name + "/")
        elif path.suffix == ".py":
            found.add(path.name)
    return found


def unit_of(module: str, src: Path = SRC, own_rows: frozenset[str] = frozenset()) -> str:
    """``slot_jax.train.loop -> train/``, ``slot_jax.config_base -> config_base.py``,
    ``slot_jax -> __init__.py``; a module the table gives its own row (``data/prepare.py``) is
    its own part."""
    parts = module.split(".")
    if len(parts) == 1:
        return ROOT
    if (path := "/".join(parts[1:]) + ".py") in own_rows:
        return path
    return parts[1] + "/" if (src / PACKAGE / parts[1]).is_dir() else parts[1] + ".py"


def bare(unit: str) -> str:
    """A part's name as the table's last column writes it: ``train``, ``properties``,
    ``data/prepare``."""
    return unit.removesuffix("/").removesuffix(".py")


def actual_imports(src: Path = SRC, own_rows: frozenset[str] = frozenset()) -> dict[str, set[str]]:
    """``part -> parts its modules import`` (the package itself, imported by every submodule, not
    counted)."""
    out: dict[str, set[str]] = {}
    for module, targets in import_graph(src).items():
        unit = unit_of(module, src, own_rows)
        out.setdefault(unit, set()).update(
            unit_of(t, src, own_rows) for t in targets if t != PACKAGE)
    return out


def table_rows(text: str) -> list[tuple[set[str], set[str]]]:
    """``(units of the row, units it says the row imports)`` for each row of the package table."""
    section = text.split("## Packages", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        names = set(re.findall(r"`([^`]+)`", cells[0]))
        said = set() if cells[2] == "none" else set(re.findall(r"`([^`]+)`", cells[2]))
        rows.append((names, {bare(s) for s in said}))
    return rows


def map_errors(text: str, src: Path = SRC) -> list[str]:
    """Where the table and the code disagree, one line each (none when the map is true)."""
    rows = table_rows(text)
    named = [name for names, _ in rows for name in names]
    errors = [f"{n} is named in two rows" for n in sorted(set(named)) if named.count(n) > 1]
    own_rows = frozenset(n for n in named if "/" in n.removesuffix("/"))
    parts = units(src) | {ROOT} | own_rows
    errors += [f"{n} is in the table, not in src/slot_jax" for n in sorted(set(named) - parts)]
    errors += [f"{n} is in src/slot_jax, not in the table" for n in sorted(parts - set(named))]
    imports = actual_imports(src, own_rows)
    for names, said in rows:
        real = {bare(u) for u in set().union(*(imports.get(n, set()) for n in names)) - names}
        if said != real:
            errors.append(f"{sorted(names)} imports {sorted(real)}, the map says {sorted(said)}")
    return errors


def test_package_table_matches_the_imports():
    assert map_errors(MAP.read_text()) == []


def test_every_file_the_map_names_exists():
    text = MAP.read_text()
    paths = set(re.findall(r"`((?:[a-z_]+/)+[a-z_]+\.py)", text))
    assert len(paths) > 15, "the parser found no file paths in the map"
    missing = [p for p in sorted(paths) if not any(
        (base / p).exists() for base in (SRC / PACKAGE, SRC.parent))]
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_the_checker_sees_a_drifted_row(tmp_path):
    for name, text in {"__init__.py": "", "a/__init__.py": "from slot_jax import b\n",
                       "b.py": "import os\n", "c.py": "def f():\n    import slot_jax.a.x\n",
                       "a/x.py": "", "a/y.py": "import slot_jax.c\n"}.items():
        (tmp_path / PACKAGE / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / PACKAGE / name).write_text(text)
    head = "## Packages\n| x | y | z |\n|---|---|---|\n| `__init__.py` | it | none |\n"
    true = head + ("| `a/` | it | `b` |\n| `c.py` | it | `a` |\n| `b.py` | it | none |\n"
                   "| `a/y.py` | it | `c` |\n")
    assert map_errors(true, tmp_path) == []
    drifted = head + "| `a/` | it | none |\n| `c.py`, `b.py` | it | `a` |\n| `d/` | it | none |\n"
    assert map_errors(drifted, tmp_path) == [
        "d/ is in the table, not in src/slot_jax",
        "['a/'] imports ['b', 'c'], the map says []",
    ]
