"""slot_jax: Slot Attention (Locatello et al., 2020) in JAX/Flax.

Public modules (``flax.linen``):

* :class:`SlotAttention`: ``(inputs [B, N, D_in], slots [B, K, D]) -> (slots, attention [B, K, N])``.
* :class:`GaussianSlotInit`, :class:`LearnedQueriesInit`: ``batch_size -> slots [B, K, D]``.
* :class:`SoftPositionEmbed`, :class:`CNNEncoder`, :class:`SpatialBroadcastDecoder`.
* :class:`SlotAutoencoder`: ``image [B, H, W, C] -> dict(recon, rgb, masks, slots, attention)``.
* :func:`build_model`, :func:`clevr_model_config`, :func:`sprites_model_config`.
"""

from slot_jax.autoencoder import SlotAutoencoder
from slot_jax.builder import build_model, clevr_model_config, sprites_model_config
from slot_jax.decoder import SpatialBroadcastDecoder, alpha_composite
from slot_jax.encoder import CNNEncoder
from slot_jax.position import SoftPositionEmbed, build_grid
from slot_jax.slot_attention import SlotAttention
from slot_jax.slot_init import GaussianSlotInit, LearnedQueriesInit
from slot_jax.upsample import ConvTransposeSubpixel

__version__ = "0.1.0"

__all__ = [
    "CNNEncoder",
    "ConvTransposeSubpixel",
    "GaussianSlotInit",
    "LearnedQueriesInit",
    "SlotAttention",
    "SlotAutoencoder",
    "SoftPositionEmbed",
    "SpatialBroadcastDecoder",
    "alpha_composite",
    "build_grid",
    "build_model",
    "clevr_model_config",
    "sprites_model_config",
]
