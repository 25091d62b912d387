"""The set-prediction model (object property prediction, Locatello et al., 2020, Sec. 4.2).

Its predictions use the 19-d property layout of :mod:`slot_jax.properties`.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp

from slot_jax.models.encoder import CNNEncoder
from slot_jax.models.layers import MLP, check_rank
from slot_jax.models.slot_attention import SlotAttention
from slot_jax.properties import NUM_PROPERTIES


class SetPredictionModel(nn.Module):
    """Image -> a set of ``K`` property vectors: encoder -> slot init + SlotAttention -> per-slot MLP.

    The paper's CLEVR property-prediction model (preset:
    :func:`slot_jax.models.presets.set_prediction_model_config`): a ``CNNEncoder`` with strides
    ``(1, 2, 2, 1)`` (a 32x32x64 map for 128x128 input), ``K = 10`` Gaussian-initialised slots of
    size 64, ``SlotAttention``, and the per-slot head ``Dense(64, ReLU) -> Dense(19)`` followed by a
    sigmoid. Unlike :class:`slot_jax.SlotAutoencoder` it accepts any image size.

    Call with an image ``[B, H, W, C]`` in [-1, 1] and an rng stream ``"slots"`` when the initialiser
    samples (or pass ``slot_noise [B, K, D]``, standard normal), as for
    :class:`slot_jax.SlotAutoencoder`. Returns a dict:

    * ``predictions [B, K, P]`` float32 in (0, 1), ``P = head_features[-1]`` (19 for CLEVR, laid out
      as in :mod:`slot_jax.properties`);
    * ``slots [B, K, D]``: the final slots;
    * ``attention [B, K, N]``: the last iteration's attention over the ``N`` encoder positions.

    Attributes:
      encoder: the image encoder, ``[B, H, W, C] -> [B, N, D_in]``.
      slot_init: a module mapping ``(batch_size, noise)`` to initial slots ``[B, K, D]``.
      slot_attention: the ``SlotAttention`` module.
      head_features: widths of the per-slot MLP (paper: ``(64, 19)``); a sigmoid follows it.
    """

    encoder: CNNEncoder
    slot_init: nn.Module
    slot_attention: SlotAttention
    head_features: Sequence[int] = (64, NUM_PROPERTIES)

    @nn.compact
    def __call__(
        self, image: jnp.ndarray, slot_noise: jnp.ndarray | None = None
    ) -> dict[str, jnp.ndarray]:
        check_rank(image, 4, "The image", "[B, H, W, C]")
        features = self.encoder(image)
        slots = self.slot_init(image.shape[0], slot_noise)
        slots, attention = self.slot_attention(features, slots)
        logits = MLP(tuple(self.head_features), dtype=self.encoder.dtype, name="head")(slots)
        predictions = nn.sigmoid(logits.astype(jnp.float32))
        return {"predictions": predictions, "slots": slots, "attention": attention}
