"""The object-discovery autoencoder of Invariant Slot Attention: encoder -> slots and poses ->
InvariantSlotAttention -> relative broadcast decoder."""

from __future__ import annotations

import math

import flax.linen as nn
import jax.numpy as jnp

from slot_jax.models.autoencoder import check_image
from slot_jax.models.encoder import CNNEncoder
from slot_jax.models.invariant_slot_attention import InvariantSlotAttention
from slot_jax.models.pose_init import PoseSlotInit
from slot_jax.models.position import build_linear_grid
from slot_jax.models.relative_decoder import RelativeBroadcastDecoder


def encoder_grid_size(encoder: CNNEncoder, height: int, width: int) -> tuple[int, int]:
    """``(h, w)`` of the encoder's (SAME-padded, strided) feature map for an ``height x width`` image."""
    for stride in encoder.strides or (1,) * len(encoder.features):
        height, width = math.ceil(height / stride), math.ceil(width / stride)
    return height, width


class InvariantSlotAutoencoder(nn.Module):
    """Unsupervised object discovery with Invariant Slot Attention (Biza et al., 2023).

    The encoder should not add an absolute position embedding (``position_embedding=False``):
    positions reach the slots only through the relative grids. Call like
    :class:`~slot_jax.models.SlotAutoencoder` with an image ``[B, H, W, C]`` in [-1, 1] and an rng
    stream ``"slots"`` for random poses (or ``slot_noise``, the dict of
    :meth:`PoseSlotInit.sample_noise`). Returns the keys of ``SlotAutoencoder`` (``recon``, ``rgb``,
    ``masks``, ``slots [B, K, D]``, ``attention [B, K, N]``) plus the final poses
    (``positions [B, K, 2]``, and ``scales [B, K, 2]``, ``rotations [B, K, 2, 2]`` where the
    variant has them).
    """

    encoder: CNNEncoder
    slot_init: PoseSlotInit
    slot_attention: InvariantSlotAttention
    decoder: RelativeBroadcastDecoder

    @nn.compact
    def __call__(
        self, image: jnp.ndarray, slot_noise: dict | None = None
    ) -> dict[str, jnp.ndarray]:
        check_image(image, self.decoder.output_size)
        features = self.encoder(image)
        h, w = encoder_grid_size(self.encoder, *image.shape[1:3])
        grid = build_linear_grid(h, w).reshape(h * w, 2)
        slots, poses = self.slot_init(image.shape[0], slot_noise)
        slots, poses, attention = self.slot_attention(features, grid, slots, poses)
        out = self.decoder(slots, poses)
        out.update(poses, slots=slots, attention=attention)
        return out
