"""Whether a checkpoint was written by the model being restored: its parameters' names and shapes
against the config's, read from the checkpoint's metadata without loading any array."""

from __future__ import annotations

from typing import Any

import jax
import orbax.checkpoint as ocp

_SHOWN = 4  # parameters named in the message; the rest are counted


def _name(path: tuple) -> str:
    parts = []
    for key in path:
        for attr in ("key", "name", "idx"):
            if hasattr(key, attr):
                parts.append(str(getattr(key, attr)))
                break
    return "/".join(parts)


def param_shapes(params: Any) -> dict[str, tuple[int, ...]]:
    """``name -> shape`` of every parameter (``encoder/conv_0/kernel``)."""
    leaves = jax.tree_util.tree_flatten_with_path(params)[0]
    return {_name(path): tuple(leaf.shape) for path, leaf in leaves if hasattr(leaf, "shape")}


def stored_param_shapes(step_dir: Any, item: str = "state") -> dict[str, tuple[int, ...]] | None:
    """The parameter shapes the checkpoint step ``step_dir`` (an orbax path, as
    ``manager.directory / str(step)``) holds, from its metadata; None if it cannot be read (a
    damaged step: restoring it reports why)."""
    try:
        metadata = ocp.StandardCheckpointHandler().metadata(step_dir / item)
        return param_shapes(metadata.tree["params"])
    except Exception:  # any damage: the restore itself names it
        return None


def _listed(names: list[str]) -> str:
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return ", ".join(names[:_SHOWN]) + more


def shape_differences(stored: dict[str, tuple], wanted: dict[str, tuple]) -> str | None:
    """The parameters whose shapes differ, and those only one side has, as one phrase; None if
    the two match."""
    differ = [f"{name} (saved {stored[name]}, config {wanted[name]})"
              for name in sorted(stored.keys() & wanted.keys()) if stored[name] != wanted[name]]
    parts = []
    if differ:
        parts.append(f"{len(differ)} parameters differ in shape: {_listed(differ)}")
    for names, side in ((sorted(stored.keys() - wanted.keys()), "the checkpoint"),
                        (sorted(wanted.keys() - stored.keys()), "the config")):
        if names:
            parts.append(f"{len(names)} parameters only in {side}: {_listed(names)}")
    return "; ".join(parts) or None
