"""Run records: the resolved config in the workdir and a parameter overview."""

from __future__ import annotations

import os
from typing import Any

import jax
import ml_collections
import numpy as np


def save_config(config: ml_collections.ConfigDict, workdir: str) -> str:
    """Writes the resolved config to ``<workdir>/config.json`` (atomically) and returns the path."""
    path = os.path.join(workdir, "config.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(config.to_json_best_effort(indent=2, sort_keys=True))
    os.replace(tmp, path)
    return path


def parameter_overview(params: Any) -> str:
    """A table of parameter counts per top-level module, and the total."""
    rows = []
    for name, sub in params.items():
        rows.append((name, sum(int(np.prod(x.shape)) for x in jax.tree.leaves(sub))))
    total = sum(n for _, n in rows)
    width = max(len(r[0]) for r in rows + [("total", 0)])
    lines = [f"{name:<{width}}  {n:>12,}" for name, n in rows]
    lines.append(f"{'total':<{width}}  {total:>12,}")
    return "\n".join(lines)
