"""Invariant Slot Attention (Biza et al., ICML 2023): slots with poses and relative grids."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from slot_jax.models.invariant_keys import (
    DenseParams,
    FactoredGridEncoder,
    LayerNormParams,
    LiteralGridEncoder,
    MLPParams,
)
from slot_jax.models.layers import MLP, check_rank, glorot
from slot_jax.models.poses import attention_poses, check_kind, clip_poses, relative_grid
from slot_jax.models.slot_attention import LAYERNORM_EPSILON


class InvariantSlotAttention(nn.Module):
    """Slot Attention in which each slot sees the inputs on a grid relative to its own pose.

    ``kind`` picks the pose: ``"translation"`` (a position), ``"translation_scale"`` (a position
    and a per-axis scale) or ``"translation_rotation_scale"`` (also a rotation). There are
    ``num_iterations + 1`` rounds, as in the reference code; each round:

    1. ``rel = R^T (grid - position) / (scales_factor * scale)`` per slot: ``[B, K, N, 2]``.
    2. ``e = Dense(rel)``; per-slot keys ``k_k = grid_encoder(k + e)`` (and values
       ``grid_encoder(v + e)`` with ``add_rel_pos_to_values``), where ``k, v`` = Dense(no bias) of
       ``LayerNorm(inputs)`` and ``grid_encoder`` = LayerNorm -> Dense(grid_hidden_size, ReLU) ->
       Dense(D). So each query has its own keys: ``logits = einsum("bkd,bknd->bkn")``.
    3. ``attn = softmax`` over **slots**; ``attn += epsilon``, normalised over inputs (a weighted
       mean), as in :class:`~slot_jax.models.SlotAttention`.
    4. The pose is recomputed from the weighted attention: position = the weighted mean of the
       grid, scale = the square root of the weighted spread (clipped to ``[min_scale,
       max_scale]``), rotation = the principal axes of the weighted covariance (within +-45
       degrees).
    5. Except in the last round (which only recomputes poses): ``slots = GRUCell(updates, prev)``;
       ``slots += MLP(LayerNorm(slots))``.

    Computed so (``factored=True``, the default), step 2's keys and values never exist: the
    ``[B, K, N, D] x [D, H]`` and ``[B, K, N, H] x [H, D]`` matmuls of ``grid_encoder`` over every
    slot and input were about 90% of a training step's FLOPs. Instead, :class:`FactoredGridEncoder`
    uses that ``rel`` has only two channels and ``Dense(rel)`` is linear in them, so the LayerNorm
    statistics and the first Dense of ``k + e`` follow from per-input terms (one
    ``[B, N, D] x [D, H]`` matmul) and two ``[H]`` vectors scaled by ``rel``; and that the last
    Dense is linear, so it is applied to the query (``q . (W h + b) = (W^T q) . h + q . b``) or
    after the weighted sum over inputs. The logits, updates and so the outputs are those of the
    definition above up to float rounding (``tests/test_isa.py`` compares them, and the
    gradients, with ``factored=False``, which computes the keys and values literally); the
    parameters are the same. On one CPU core the learning-test step
    (``configs/learning_test_isa.py``) went from 1.30 s, 17x a Slot Attention step, to 0.22 s,
    3.8x.

    With the same rng-free inputs the output is equivariant: moving the grid and the initial
    positions by ``t`` moves the output positions by ``t`` and leaves the slots unchanged (likewise
    for scaling and rotating the grid about the origin). LayerNorm epsilon is Keras' ``1e-3``, as in
    :class:`~slot_jax.models.SlotAttention`; attention, poses and normalisation are float32.

    Attributes:
      kind: the pose variant (see :data:`slot_jax.models.poses.POSE_KEYS`).
      num_iterations: slot-updating rounds (reference: 3); one more round updates the poses.
      mlp_hidden_size: hidden width of the residual slot MLP (reference: 128).
      grid_hidden_size: hidden width of the grid encoder (reference: 128).
      epsilon: added to the attention before the weighted mean (reference: 1e-8).
      add_rel_pos_to_values: values get the relative grid too (reference configs: True).
      scales_factor: extra divisor of the scaled grid (reference: 1; CLEVR configs: 5).
      min_scale, max_scale: the range scales are clipped to (reference: 0.001, 2).
      dtype: computation dtype of the dense layers.
      factored: compute the per-slot keys and values in the factored form (the default), or
        literally (``False``: the reference; this module's forward and backward pass about 8x
        slower on CPU).
    """

    kind: str = "translation_scale"
    num_iterations: int = 3
    mlp_hidden_size: int = 128
    grid_hidden_size: int = 128
    epsilon: float = 1e-8
    add_rel_pos_to_values: bool = True
    scales_factor: float = 1.0
    min_scale: float = 0.001
    max_scale: float = 2.0
    dtype: Any = None
    factored: bool = True

    def _check(self, inputs, grid, slots, poses) -> tuple[str, ...]:
        keys = check_kind(self.kind)
        check_rank(inputs, 3, "InvariantSlotAttention inputs", "[B, N, D_in]")
        check_rank(slots, 3, "InvariantSlotAttention slots", "[B, K, D]")
        b, k = slots.shape[:2]
        if inputs.shape[0] != b:
            raise ValueError(
                f"InvariantSlotAttention: inputs batch {inputs.shape[0]} != slots batch {b}; "
                "pass as many initial slots as images."
            )
        if tuple(grid.shape) != (inputs.shape[1], 2):
            raise ValueError(
                f"InvariantSlotAttention: grid has shape {tuple(grid.shape)} but the "
                f"{inputs.shape[1]} inputs need [N, 2] = ({inputs.shape[1]}, 2); pass "
                "build_linear_grid(h, w).reshape(-1, 2)."
            )
        if not isinstance(poses, dict) or set(poses) != set(keys):
            got = sorted(poses) if isinstance(poses, dict) else type(poses).__name__
            raise ValueError(
                f"InvariantSlotAttention(kind={self.kind!r}) needs poses with keys {list(keys)}, "
                f"got {got}; use the matching PoseSlotInit(kind={self.kind!r})."
            )
        want = {"positions": (b, k, 2), "scales": (b, k, 2), "rotations": (b, k, 2, 2)}
        for key in keys:
            if tuple(poses[key].shape) != want[key]:
                raise ValueError(
                    f"InvariantSlotAttention: poses[{key!r}] has shape {tuple(poses[key].shape)} "
                    f"but slots {tuple(slots.shape)} need {want[key]}; give one pose per slot."
                )
        if self.num_iterations < 1:
            raise ValueError(f"num_iterations must be >= 1, got {self.num_iterations}.")
        return keys

    @nn.compact
    def __call__(
        self, inputs: jnp.ndarray, grid: jnp.ndarray, slots: jnp.ndarray, poses: dict
    ) -> tuple[jnp.ndarray, dict[str, jnp.ndarray], jnp.ndarray]:
        """Runs the rounds.

        Args:
          inputs: ``[B, N, D_in]`` features (e.g. the flattened encoder output, no absolute
            position embedding).
          grid: ``[N, 2]`` absolute ``(y, x)`` coordinates of the inputs.
          slots: ``[B, K, D]`` initial slots.
          poses: initial poses: ``positions [B, K, 2]``, plus ``scales [B, K, 2]`` and
            ``rotations [B, K, 2, 2]`` as ``kind`` needs.

        Returns:
          ``(slots [B, K, D], poses, attention [B, K, N])``: the poses are those of the last
          round; the attention is its softmax over slots (before ``epsilon``), summing to 1 over K.
        """
        keys = self._check(inputs, grid, slots, poses)
        b, k_slots, dim = slots.shape
        grid = grid.astype(jnp.float32)
        poses = clip_poses(
            {key: poses[key].astype(jnp.float32) for key in keys}, self.min_scale, self.max_scale
        )

        dense = dict(use_bias=False, kernel_init=glorot, dtype=self.dtype)
        norm = dict(epsilon=LAYERNORM_EPSILON, dtype=jnp.float32)
        inputs = nn.LayerNorm(name="norm_inputs", **norm)(inputs)
        k = nn.Dense(dim, name="k", **dense)(inputs)  # [B, N, D]
        v = nn.Dense(dim, name="v", **dense)(inputs)
        to_q = nn.Dense(dim, name="q", **dense)
        grid_features = (self.grid_hidden_size, dim)
        if self.factored:
            encoder = FactoredGridEncoder(
                DenseParams(dim, name="grid_proj")(2), LayerNormParams(name="norm_grid")(dim),
                MLPParams(grid_features, name="grid_encoder")(dim), LAYERNORM_EPSILON,
                self.dtype)
        else:
            encoder = LiteralGridEncoder(
                nn.Dense(dim, kernel_init=glorot, dtype=self.dtype, name="grid_proj"),
                nn.LayerNorm(name="norm_grid", **norm),
                MLP(grid_features, dtype=self.dtype, name="grid_encoder"))
        keys_in = encoder.prepare(k)  # the pose-free terms, once for all rounds
        values_in = encoder.prepare(v) if self.add_rel_pos_to_values else None
        norm_slots = nn.LayerNorm(name="norm_slots", **norm)
        gru = nn.GRUCell(features=dim, kernel_init=glorot, dtype=self.dtype, name="gru")
        norm_mlp = nn.LayerNorm(name="norm_mlp", **norm)
        mlp = MLP((self.mlp_hidden_size, dim), dtype=self.dtype, name="mlp")

        attn = None
        for i in range(self.num_iterations + 1):
            last = i == self.num_iterations  # it only recomputes the poses: no values needed
            rel = relative_grid(grid, poses, self.scales_factor)  # [B, K, N, 2]
            q = to_q(norm_slots(slots)) * dim**-0.5
            logits = encoder.logits(keys_in, rel, q)  # [B, K, N] float32
            attn = jax.nn.softmax(logits, axis=1)  # over slots
            weights = attn + self.epsilon
            weights = weights / jnp.sum(weights, axis=-1, keepdims=True)  # mean over inputs
            poses = attention_poses(weights, grid, keys, self.min_scale, self.max_scale)
            if last:
                break
            w = weights.astype(v.dtype)
            if self.add_rel_pos_to_values:
                updates = encoder.weighted_sum(values_in, rel, w)
            else:
                updates = jnp.einsum("bkn,bnd->bkd", w, v)
            prev = slots.reshape(b * k_slots, dim)
            slots, _ = gru(prev, updates.reshape(b * k_slots, dim))
            slots = slots.reshape(b, k_slots, dim)
            slots = slots + mlp(norm_mlp(slots)).astype(slots.dtype)
        return slots, poses, attn
