"""The set-prediction model (object property prediction, Locatello et al., 2020, Sec. 4.2).

The 19-d property vector shared by the model's predictions, the targets
(:mod:`slot_jax.data.targets`), the loss (:mod:`slot_jax.set_loss`) and AP
(:mod:`slot_jax.set_metrics`), in this order:

====================  =====  =========================================================
property              dims   encoding
====================  =====  =========================================================
``3d_coords``         0-2    ``(coords + 3) / 6``: CLEVR's [-3, 3] scene units to [0, 1]
``size``              3-4    one-hot (small, large)
``material``          5-6    one-hot (rubber, metal)
``shape``             7-9    one-hot (cube, sphere, cylinder)
``color``             10-17  one-hot (gray, blue, brown, yellow, red, green, purple, cyan)
objectness            18     1 for a real object, 0 for padding
====================  =====  =========================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp

from slot_jax.encoder import CNNEncoder
from slot_jax.layers import MLP, check_rank
from slot_jax.slot_attention import SlotAttention

# (name, width) of the property groups, in target order; objectness follows them.
PROPERTIES: tuple[tuple[str, int], ...] = (
    ("3d_coords", 3), ("size", 2), ("material", 2), ("shape", 3), ("color", 8),
)
# The discrete properties AP compares (by argmax), in target order.
DISCRETE_PROPERTIES: tuple[str, ...] = ("size", "material", "shape", "color")
# Coordinates are stored as (coords + COORD_OFFSET) / COORD_SCALE.
COORD_OFFSET = 3.0
COORD_SCALE = 6.0


def _slices() -> dict[str, slice]:
    out, start = {}, 0
    for name, width in PROPERTIES:
        out[name] = slice(start, start + width)
        start += width
    return out


PROPERTY_SLICES: dict[str, slice] = _slices()
OBJECTNESS_INDEX: int = sum(width for _, width in PROPERTIES)  # 18
NUM_PROPERTIES: int = OBJECTNESS_INDEX + 1  # 19


class SetPredictionModel(nn.Module):
    """Image -> a set of ``K`` property vectors: encoder -> slot init + SlotAttention -> per-slot MLP.

    The paper's CLEVR property-prediction model (preset:
    :func:`slot_jax.builder.set_prediction_model_config`): a ``CNNEncoder`` with strides
    ``(1, 2, 2, 1)`` (a 32x32x64 map for 128x128 input), ``K = 10`` Gaussian-initialised slots of
    size 64, ``SlotAttention``, and the per-slot head ``Dense(64, ReLU) -> Dense(19)`` followed by a
    sigmoid. Unlike :class:`slot_jax.SlotAutoencoder` it accepts any image size.

    Call with an image ``[B, H, W, C]`` in [-1, 1] and an rng stream ``"slots"`` when the initialiser
    samples (or pass ``slot_noise [B, K, D]``, standard normal), as for
    :class:`slot_jax.SlotAutoencoder`. Returns a dict:

    * ``predictions [B, K, P]`` float32 in (0, 1), ``P = head_features[-1]`` (19 for CLEVR, laid out
      as in the module docstring);
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
