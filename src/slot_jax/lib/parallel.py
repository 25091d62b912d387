"""Data parallelism: mesh sharding (default) or ``jax.pmap``, behind one small interface.

Both replicate the state and split the batch over all devices; the step sees the global batch under
``jit`` (mesh) or one shard with collectives over axis ``"data"`` (pmap). Results agree within float
tolerance (``tests/test_train.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

AXIS = "data"
MODES = ("mesh", "pmap")


@dataclasses.dataclass
class DataParallel:
    """Places state and batches and compiles steps for ``mode`` in ``MODES``.

    Steps have the signature ``fn(state, batch, rng) -> (state_or_outputs, metrics)``; with
    ``pmap`` they are written against a per-device shard and may use ``axis_name=AXIS``.
    """

    mode: str = "mesh"
    devices: list | None = None

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"Unknown config.parallelism={self.mode!r}; choose one of {MODES}.")
        self.devices = list(self.devices or jax.devices())
        self.local_devices = [d for d in self.devices if d.process_index == jax.process_index()]
        # Auto axes: XLA propagates the batch sharding through the model (no sharding in types).
        self.mesh = jax.make_mesh(
            (len(self.devices),), (AXIS,), axis_types=(AxisType.Auto,), devices=self.devices
        )
        self.replicated = NamedSharding(self.mesh, P())
        self.sharded = NamedSharding(self.mesh, P(AXIS))

    @property
    def axis_name(self) -> str | None:
        """The collective axis name under ``pmap``; None under mesh sharding."""
        return AXIS if self.mode == "pmap" else None

    def replicate(self, tree: Any) -> Any:
        """Places a host/single-device pytree on every device."""
        if self.mode == "pmap":
            n = len(self.local_devices)
            # Via host memory: inputs may carry another sharding (e.g. restored checkpoints).
            return jax.tree.map(lambda x: np.stack([np.asarray(x)] * n), tree)
        return jax.device_put(tree, self.replicated)

    def unreplicate(self, tree: Any) -> Any:
        """One copy of a replicated pytree (for checkpoints and host use)."""
        if self.mode == "pmap":
            return jax.tree.map(lambda x: x[0], tree)
        return tree

    def shard_batch(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        """This process's numpy batch ``[b, ...]`` -> the global batch split over devices."""
        if self.mode == "pmap":
            n = len(self.local_devices)
            return {k: v.reshape(n, v.shape[0] // n, *v.shape[1:]) for k, v in batch.items()}
        return {
            k: jax.make_array_from_process_local_data(self.sharded, v) for k, v in batch.items()
        }

    def compile(self, fn: Callable, donate_state: bool) -> Callable:
        """Compiles ``fn(state, batch, rng)``; the state is donated when ``donate_state``."""
        donate = (0,) if donate_state else ()
        if self.mode == "pmap":
            return jax.pmap(
                fn, axis_name=AXIS, in_axes=(0, 0, None), donate_argnums=donate,
                devices=self.local_devices,
            )
        return jax.jit(
            fn,
            in_shardings=(self.replicated, self.sharded, self.replicated),
            out_shardings=self.replicated,
            donate_argnums=donate,
        )

    def gather(self, tree: Any) -> Any:
        """Per-example outputs as one ``[B, ...]`` array per leaf (pmap returns ``[n, b, ...]``)."""
        if self.mode == "pmap":
            return jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), tree)
        return tree

    def first(self, metrics: Any) -> Any:
        """Metrics as computed once (pmap returns one copy per device)."""
        return jax.tree.map(lambda x: x[0], metrics) if self.mode == "pmap" else metrics
