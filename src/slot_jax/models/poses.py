"""Slot poses of Invariant Slot Attention: the variants, relative grids and pose statistics.

A pose is a dict of arrays per slot: ``positions [B, K, 2]`` (always), ``scales [B, K, 2]``
(the scale variants) and ``rotations [B, K, 2, 2]`` (the rotation variant). Coordinates are
``(y, x)`` on the grid of :func:`slot_jax.models.position.build_linear_grid`, in [-1, 1].
"""

from __future__ import annotations

import jax.numpy as jnp

# The pose each variant carries; "standard" is the paper's Slot Attention (no poses).
POSE_KEYS = {
    "translation": ("positions",),
    "translation_scale": ("positions", "scales"),
    "translation_rotation_scale": ("positions", "scales", "rotations"),
}
KINDS = ("standard", *POSE_KEYS)


def check_kind(kind: str) -> tuple[str, ...]:
    """The pose keys of an invariant ``kind``; a ValueError naming the choices otherwise."""
    if kind not in POSE_KEYS:
        raise ValueError(f"Unknown invariant kind={kind!r}; choose one of {list(POSE_KEYS)}.")
    return POSE_KEYS[kind]


def rotation_matrix(angles: jnp.ndarray) -> jnp.ndarray:
    """``angles [...]`` (radians) -> ``[..., 2, 2]`` matrices whose columns are the frame's axes."""
    cos, sin = jnp.cos(angles), jnp.sin(angles)
    return jnp.stack([jnp.stack([cos, -sin], -1), jnp.stack([sin, cos], -1)], -2)


def relative_grid(grid: jnp.ndarray, poses: dict, scales_factor: float) -> jnp.ndarray:
    """The grid in each slot's frame: ``R^T (grid - position) / (scales_factor * scale)``.

    Args:
      grid: ``[N, 2]`` absolute coordinates (or ``[..., N, 2]`` broadcastable against the slots).
      poses: a pose dict with ``positions [B, K, 2]`` and optionally ``scales``, ``rotations``.
      scales_factor: divides the grid when there are scales (scales are small, so the grid would
        grow large; the reference's CLEVR configs use 5).

    Returns:
      ``[B, K, N, 2]``.
    """
    rel = grid - poses["positions"][..., None, :]
    if "rotations" in poses:
        rel = jnp.einsum("bkni,bkij->bknj", rel, poses["rotations"])
    if "scales" in poses:
        rel = rel / (scales_factor * poses["scales"][..., None, :])
    return rel


def _principal_angle(cov: jnp.ndarray) -> jnp.ndarray:
    """The angle in [-pi/4, pi/4] of the frame aligned with the principal axes of ``cov [..., 2, 2]``.

    The major axis of a 2x2 covariance is at ``0.5 * atan2(2 c_yx, c_yy - c_xx)`` from the y axis;
    adding or removing 90 degrees (which swaps the axes) brings the angle into [-45, 45] degrees.
    An isotropic spread has no axis: its angle is 0 (and its gradient is 0, not NaN).
    """
    num, den = 2.0 * cov[..., 1, 0], cov[..., 0, 0] - cov[..., 1, 1]
    flat = num**2 + den**2 < 1e-12
    angle = 0.5 * jnp.arctan2(jnp.where(flat, 0.0, num), jnp.where(flat, 1.0, den))
    angle = jnp.where(flat, 0.0, angle)
    return angle - jnp.pi / 2 * jnp.round(angle / (jnp.pi / 2))


def attention_poses(
    weights: jnp.ndarray, grid: jnp.ndarray, keys: tuple[str, ...], min_scale: float,
    max_scale: float,
) -> dict[str, jnp.ndarray]:
    """Each slot's pose from its attention, as in the reference.

    Args:
      weights: ``[B, K, N]`` attention normalised over inputs (sums to 1 over ``N``).
      grid: ``[N, 2]`` absolute coordinates.
      keys: the pose keys to compute (see :data:`POSE_KEYS`).
      min_scale, max_scale: scales are clipped to this range.

    Returns:
      positions (the weighted mean of the grid); scales (the square root of the weighted spread
      along each of the frame's axes, clipped); rotations (the frame of the weighted covariance's
      principal axes, within +-45 degrees).
    """
    positions = jnp.einsum("bkn,nd->bkd", weights, grid)
    poses = {"positions": positions}
    if "scales" not in keys:
        return poses
    rel = grid - positions[..., None, :]  # [B, K, N, 2]
    if "rotations" in keys:
        cov = jnp.einsum("bkn,bkni,bknj->bkij", weights, rel, rel)
        rotations = rotation_matrix(_principal_angle(cov))
        rel = jnp.einsum("bkni,bkij->bknj", rel, rotations)
        poses["rotations"] = rotations
    spread = jnp.einsum("bkn,bknd->bkd", weights, rel**2)
    poses["scales"] = jnp.clip(jnp.sqrt(spread), min_scale, max_scale)
    return poses


def clip_poses(poses: dict, min_scale: float, max_scale: float) -> dict:
    """Initial poses brought into range: positions into [-1, 1], scales into the allowed range."""
    out = dict(poses, positions=jnp.clip(poses["positions"], -1.0, 1.0))
    if "scales" in poses:
        out["scales"] = jnp.clip(poses["scales"], min_scale, max_scale)
    return out


def flatten_poses(poses: dict) -> jnp.ndarray:
    """A pose dict -> ``[B, K, P]`` (positions, scales, then the 4 rotation entries)."""
    parts = [poses["positions"]]
    if "scales" in poses:
        parts.append(poses["scales"])
    if "rotations" in poses:
        parts.append(poses["rotations"].reshape(*poses["rotations"].shape[:-2], 4))
    return jnp.concatenate(parts, axis=-1)

