"""slot_jax: Slot Attention (Locatello et al., 2020) in JAX/Flax.

Public modules (``flax.linen``):

* :class:`SlotAttention`: ``(inputs [B, N, D_in], slots [B, K, D]) -> (slots, attention [B, K, N])``.
* :class:`GaussianSlotInit`, :class:`LearnedQueriesInit`: ``batch_size -> slots [B, K, D]``.
* :class:`SoftPositionEmbed`, :class:`CNNEncoder`, :class:`SpatialBroadcastDecoder`.
* :class:`SlotAutoencoder`: ``image [B, H, W, C] -> dict(recon, rgb, masks, slots, attention)``.
* :class:`SetPredictionModel`: ``image -> dict(predictions [B, K, 19], slots, attention)``.
* :func:`build_model`, :func:`clevr_model_config`, :func:`sprites_model_config`,
  :func:`set_prediction_model_config`.
* Metrics: :func:`adjusted_rand_index`, :func:`mean_best_overlap`, :func:`hungarian_miou`,
  :func:`segmentation_metrics`; set prediction: :func:`hungarian_huber_loss`,
  :func:`ap_at_thresholds`.
"""

from slot_jax.autoencoder import SlotAutoencoder
from slot_jax.builder import (
    build_model,
    clevr_model_config,
    set_prediction_model_config,
    sprites_model_config,
)
from slot_jax.decoder import SpatialBroadcastDecoder, alpha_composite
from slot_jax.encoder import CNNEncoder
from slot_jax.metrics import (
    adjusted_rand_index,
    hungarian_miou,
    mean_best_overlap,
    segmentation_metrics,
)
from slot_jax.position import SoftPositionEmbed, build_grid
from slot_jax.set_loss import hungarian_huber_loss
from slot_jax.set_metrics import ap_at_thresholds
from slot_jax.set_prediction import SetPredictionModel
from slot_jax.slot_attention import SlotAttention
from slot_jax.slot_init import GaussianSlotInit, LearnedQueriesInit
from slot_jax.upsample import ConvTransposeSubpixel

__version__ = "0.1.0"

__all__ = [
    "CNNEncoder",
    "ConvTransposeSubpixel",
    "GaussianSlotInit",
    "LearnedQueriesInit",
    "SetPredictionModel",
    "SlotAttention",
    "SlotAutoencoder",
    "SoftPositionEmbed",
    "SpatialBroadcastDecoder",
    "adjusted_rand_index",
    "alpha_composite",
    "ap_at_thresholds",
    "build_grid",
    "build_model",
    "clevr_model_config",
    "hungarian_huber_loss",
    "hungarian_miou",
    "mean_best_overlap",
    "segmentation_metrics",
    "set_prediction_model_config",
    "sprites_model_config",
]
