"""The object-discovery autoencoder: encoder -> slot init + SlotAttention -> broadcast decoder."""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from slot_jax.models.decoder import SpatialBroadcastDecoder
from slot_jax.models.encoder import CNNEncoder
from slot_jax.models.layers import check_rank
from slot_jax.models.slot_attention import SlotAttention


def check_image(image: jnp.ndarray, output_size: tuple[int, int]) -> None:
    """Raises a ValueError unless ``image`` is ``[B, H, W, C]`` with ``(H, W)`` the decoder's
    ``output_size``."""
    check_rank(image, 4, "The image", "[B, H, W, C]")
    expected = tuple(output_size)
    if tuple(image.shape[1:3]) != expected:
        raise ValueError(
            f"The image is {image.shape[1]}x{image.shape[2]} but the decoder produces "
            f"{expected[0]}x{expected[1]}; set config.model.image_size to the data's size "
            "(or resize the data)."
        )


class SlotAutoencoder(nn.Module):
    """Unsupervised object discovery (Locatello et al., 2020, Sec. 3 and App. E).

    The submodules are passed in, so any encoder, slot initialiser (a module mapping a batch size to
    ``[B, K, D]``), ``SlotAttention`` configuration and decoder compose; see
    :func:`slot_jax.build_model` for the paper's settings.

    Call with an image ``[B, H, W, C]`` in [-1, 1] and an rng stream ``"slots"`` when the
    initialiser samples (or pass ``slot_noise [B, K, D]``, standard normal). Returns a dict:

    * ``recon [B, H, W, C]``: the alpha-composited reconstruction;
    * ``rgb [B, K, H, W, C]``: per-slot colours;
    * ``masks [B, K, H, W, 1]``: per-slot alpha masks, a softmax over slots;
    * ``slots [B, K, D]``: the final slots;
    * ``attention [B, K, N]``: the last iteration's attention over the ``N`` encoder positions.
    """

    encoder: CNNEncoder
    slot_init: nn.Module
    slot_attention: SlotAttention
    decoder: SpatialBroadcastDecoder

    @nn.compact
    def __call__(
        self, image: jnp.ndarray, slot_noise: jnp.ndarray | None = None
    ) -> dict[str, jnp.ndarray]:
        check_image(image, self.decoder.output_size)
        features = self.encoder(image)
        slots = self.slot_init(image.shape[0], slot_noise)
        slots, attention = self.slot_attention(features, slots)
        out = self.decoder(slots)
        out.update(slots=slots, attention=attention)
        return out
