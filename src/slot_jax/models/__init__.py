"""The Flax (``linen``) modules of Slot Attention, the model builder and the paper's presets.

* :mod:`.slot_attention` (:class:`SlotAttention`) and :mod:`.slot_init` (its initialisers);
* :mod:`.layers` (MLP, the convolution layer, initialisers, shape checks), :mod:`.position`
  (soft position embedding);
* :mod:`.encoder` (CNN encoder), :mod:`.decoder` (spatial broadcast decoder), :mod:`.upsample`
  (its transposed convolution layer), :mod:`.broadcast_conv` (its first convolution, without the
  broadcast);
* :mod:`.autoencoder` (object discovery) and :mod:`.set_prediction` (property prediction);
* Invariant Slot Attention: :mod:`.invariant_slot_attention` (:class:`InvariantSlotAttention`),
  :mod:`.poses` (variants, relative grids, pose statistics), :mod:`.pose_init`
  (:class:`PoseSlotInit`), :mod:`.relative_decoder` (:class:`RelativeBroadcastDecoder`) and
  :mod:`.invariant_autoencoder` (:class:`InvariantSlotAutoencoder`);
* video: :mod:`.savi` (:class:`SAVi`), :mod:`.predictor` (its :class:`TransformerBlock`) and
  :mod:`.video_init` (:class:`CoordinateInit`, the conditional initialiser);
* :mod:`.build` (:func:`build_model` from a config's ``model`` section) and :mod:`.presets`.
"""

from slot_jax.models.autoencoder import SlotAutoencoder
from slot_jax.models.build import build_model
from slot_jax.models.decoder import SpatialBroadcastDecoder, alpha_composite
from slot_jax.models.encoder import CNNEncoder
from slot_jax.models.invariant_autoencoder import InvariantSlotAutoencoder
from slot_jax.models.invariant_slot_attention import InvariantSlotAttention
from slot_jax.models.pose_init import PoseSlotInit
from slot_jax.models.position import SoftPositionEmbed, build_grid, build_linear_grid
from slot_jax.models.predictor import TransformerBlock
from slot_jax.models.presets import (
    clevr_model_config,
    invariant_model_config,
    isa_clevr_model_config,
    isa_tetrominoes_model_config,
    savi_model_config,
    set_prediction_model_config,
    sprites_model_config,
)
from slot_jax.models.relative_decoder import RelativeBroadcastDecoder
from slot_jax.models.savi import SAVi
from slot_jax.models.set_prediction import SetPredictionModel
from slot_jax.models.slot_attention import SlotAttention
from slot_jax.models.slot_init import GaussianSlotInit, LearnedQueriesInit
from slot_jax.models.upsample import ConvTransposeSubpixel
from slot_jax.models.video_init import CoordinateInit

__all__ = [
    "CNNEncoder",
    "ConvTransposeSubpixel",
    "CoordinateInit",
    "GaussianSlotInit",
    "InvariantSlotAttention",
    "InvariantSlotAutoencoder",
    "LearnedQueriesInit",
    "PoseSlotInit",
    "RelativeBroadcastDecoder",
    "SAVi",
    "SetPredictionModel",
    "SlotAttention",
    "SlotAutoencoder",
    "SoftPositionEmbed",
    "SpatialBroadcastDecoder",
    "TransformerBlock",
    "alpha_composite",
    "build_grid",
    "build_linear_grid",
    "build_model",
    "clevr_model_config",
    "invariant_model_config",
    "isa_clevr_model_config",
    "isa_tetrominoes_model_config",
    "savi_model_config",
    "set_prediction_model_config",
    "sprites_model_config",
]
