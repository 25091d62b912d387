"""slot_jax: Slot Attention (Locatello et al., 2020) in JAX/Flax.

Public modules (``flax.linen``):

* :class:`SlotAttention`: ``(inputs [B, N, D_in], slots [B, K, D]) -> (slots, attention [B, K, N])``.
* :class:`GaussianSlotInit`, :class:`LearnedQueriesInit`: ``batch_size -> slots [B, K, D]``.
* :class:`SoftPositionEmbed`, :class:`CNNEncoder`, :class:`SpatialBroadcastDecoder`.
* :class:`SlotAutoencoder`: ``image [B, H, W, C] -> dict(recon, rgb, masks, slots, attention)``.
* :class:`SetPredictionModel`: ``image -> dict(predictions [B, K, 19], slots, attention)``.
* Invariant Slot Attention: :class:`InvariantSlotAttention` ``(inputs, grid [N, 2], slots, poses)
  -> (slots, poses, attention)``, :class:`PoseSlotInit`, :class:`RelativeBroadcastDecoder`,
  :class:`InvariantSlotAutoencoder`, :func:`build_linear_grid`, :func:`invariant_model_config`,
  :func:`isa_tetrominoes_model_config`, :func:`isa_clevr_model_config`.
* Video (SAVi): :class:`SAVi` ``video [B, T, H, W, C] -> dict(recon, masks, slots [B, T, K, D],
  attention, next_slots)``, its predictor :class:`TransformerBlock`, the conditional initialiser
  :class:`CoordinateInit` and :func:`savi_model_config`.
* :func:`build_model`, :func:`clevr_model_config`, :func:`sprites_model_config`,
  :func:`set_prediction_model_config`.
* Metrics: :func:`adjusted_rand_index`, :func:`mean_best_overlap`, :func:`hungarian_miou`,
  :func:`segmentation_metrics`; set prediction: :func:`hungarian_huber_loss`,
  :func:`ap_at_thresholds`.
"""

from slot_jax.evaluation.metrics import (
    adjusted_rand_index,
    hungarian_miou,
    mean_best_overlap,
    segmentation_metrics,
)
from slot_jax.evaluation.set_metrics import ap_at_thresholds
from slot_jax.lib.losses import hungarian_huber_loss
from slot_jax.models import *  # noqa: F403  (every public model name)
from slot_jax.models import __all__ as _MODEL_NAMES

__version__ = "0.1.0"

__all__ = [
    *_MODEL_NAMES,
    "adjusted_rand_index",
    "ap_at_thresholds",
    "hungarian_huber_loss",
    "hungarian_miou",
    "mean_best_overlap",
    "segmentation_metrics",
]
