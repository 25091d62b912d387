"""Initial slots and poses for Invariant Slot Attention."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from slot_jax.models.poses import check_kind, rotation_matrix
from slot_jax.models.slot_init import SLOTS_RNG

# The standard draws behind each random pose entry: (distribution, width per slot).
_NOISE = {"positions": ("uniform", 2), "scales": ("normal", 2), "rotations": ("uniform", 1)}


def normal_init(mean: float, std: float):
    """An initialiser of ``N(mean, std^2)`` entries."""

    def init(key: jax.Array, shape, dtype=jnp.float32) -> jnp.ndarray:
        return mean + std * jax.random.normal(key, shape, dtype)

    return init


def uniform_init(low: float, high: float):
    """An initialiser of ``U[low, high)`` entries."""

    def init(key: jax.Array, shape, dtype=jnp.float32) -> jnp.ndarray:
        return jax.random.uniform(key, shape, dtype, low, high)

    return init


class PoseSlotInit(nn.Module):
    """Learned per-slot states ``[1, K, D]`` with random (or learned) initial poses.

    The reference's ``ParamStateInitRandomPositions{,Scales,RotationsScales}`` (``learned=False``)
    and ``ParamStateInitLearnablePositions{,Scales,RotationsScales}`` (``learned=True``):

    * states: a parameter ``[1, K, D]``, ``N(0, 1)`` initialised, the same for every image;
    * random poses: positions ``U[-1, 1]``, scales ``N(0.1, 0.1^2)``, angles ``U[-45, 45]``
      degrees, each drawn with its own key (``fold_in`` of the ``"slots"`` stream's key), so the
      three quantities are independent;
    * learned poses: parameters ``[1, K, .]``: positions ``U[-1, 1]``, scales ``N(0.1, 0.01^2)``,
      angles ``tanh(a) * 45`` degrees with ``a ~ N(0, 0.1^2)``; no rng is consumed.

    Call with ``(batch_size, noise=None)``. ``noise`` is the dict of standard draws of
    :meth:`sample_noise` (the trainer draws it for the global batch, so results do not depend on
    the device count); without it, they are drawn from the ``"slots"`` stream. Returns
    ``(slots [B, K, D], poses)`` with the pose keys of ``kind``.
    """

    num_slots: int
    slot_size: int
    kind: str = "translation_scale"
    learned: bool = False

    def sample_noise(self, rng: jax.Array, batch_size: int) -> dict[str, jnp.ndarray] | None:
        """Standard draws for the random poses: ``U[0, 1)`` positions ``[B, K, 2]`` and angles
        ``[B, K, 1]``, ``N(0, 1)`` scales ``[B, K, 2]``, one key each; None for learned poses."""
        if self.learned:
            return None
        out = {}
        for i, key in enumerate(check_kind(self.kind)):
            dist, width = _NOISE[key]
            draw = jax.random.uniform if dist == "uniform" else jax.random.normal
            out[key] = draw(jax.random.fold_in(rng, i), (batch_size, self.num_slots, width))
        return out

    @nn.compact
    def __call__(
        self, batch_size: int, noise: dict[str, jnp.ndarray] | None = None
    ) -> tuple[jnp.ndarray, dict[str, jnp.ndarray]]:
        keys = check_kind(self.kind)
        k = self.num_slots
        states = self.param("states", nn.initializers.normal(1.0), (1, k, self.slot_size))
        slots = jnp.broadcast_to(states, (batch_size, k, self.slot_size))
        if self.learned:
            poses = {"positions": self.param("positions", uniform_init(-1.0, 1.0), (1, k, 2))}
            if "scales" in keys:
                poses["scales"] = self.param("scales", normal_init(0.1, 0.01), (1, k, 2))
            if "rotations" in keys:
                angles = self.param("angles", normal_init(0.0, 0.1), (1, k))
                poses["rotations"] = rotation_matrix(jnp.tanh(angles) * jnp.pi / 4)
            poses = {key: jnp.broadcast_to(x, (batch_size, *x.shape[1:])) for key, x in poses.items()}
            return slots, poses
        if noise is None:
            noise = self.sample_noise(self.make_rng(SLOTS_RNG), batch_size)
        poses = {"positions": 2.0 * noise["positions"] - 1.0}
        if "scales" in keys:
            poses["scales"] = 0.1 + 0.1 * noise["scales"]
        if "rotations" in keys:
            poses["rotations"] = rotation_matrix((noise["rotations"][..., 0] - 0.5) * jnp.pi / 2)
        return slots, poses


POSE_INITIALISERS = {"random_poses": False, "learned_poses": True}
