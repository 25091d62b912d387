"""SAVi (Kipf et al., 2022): Slot Attention over the frames of a video, with slots carried on."""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from slot_jax.models.autoencoder import check_image
from slot_jax.models.decoder import SpatialBroadcastDecoder
from slot_jax.models.encoder import CNNEncoder
from slot_jax.models.layers import check_rank
from slot_jax.models.slot_attention import SlotAttention


def _frame(model: SAVi, slots: jnp.ndarray, features: jnp.ndarray):
    """One frame: correct ``slots`` with the frame's ``features``, then predict the next frame's."""
    corrected, attention = model.slot_attention(features, slots)
    predicted = corrected if model.predictor is None else model.predictor(corrected)
    return predicted, (corrected, attention)


# The frames in turn; every frame shares the parameters.
_scan_frames = nn.scan(
    _frame, variable_broadcast="params", split_rngs={"params": False}, in_axes=1, out_axes=1
)


class SAVi(nn.Module):
    """Slot Attention for Video: encoder, slot initialiser, corrector, predictor and decoder.

    The parts are those of :class:`~slot_jax.models.SlotAutoencoder`, under the same names, plus
    the predictor; so a one-frame video with no predictor and a one-iteration corrector is the image
    model on that frame, with the same parameters. Each frame is encoded on its own (the frames
    folded into the batch). The slots are initialised once, then, frame by frame (``nn.scan``, the
    parameters shared), the *corrector* (``slot_attention``, SAVi: 1 iteration) updates them with
    the frame's features and the *predictor* (SAVi: a
    :class:`~slot_jax.models.TransformerBlock`; ``None`` for the identity) gives the next frame's
    initial slots. The corrected slots of every frame are decoded (frames folded into the batch).

    Call with ``video [B, T, H, W, C]`` in [-1, 1] and, for the initialiser:

    * ``slot_noise [B, K, D]`` (standard normal) or an rng stream ``"slots"``, for a Gaussian one;
    * ``conditioning`` for a conditional one (:class:`~slot_jax.models.CoordinateInit`: the first
      frame's boxes ``[B, K - 1, 4]`` or centres ``[B, K - 1, 2]``); unconditional initialisers
      ignore it, as SAVi's do;
    * or ``initial_slots [B, K, D]`` instead of the initialiser: the ``next_slots`` of the
      previous chunk, to run a long video in chunks (the result equals running it whole).

    Returns a dict:

    * ``recon [B, T, H, W, C]``, ``rgb [B, T, K, H, W, C]``, ``masks [B, T, K, H, W, 1]``: each
      frame's decoding, as the image model's;
    * ``slots [B, T, K, D]``: each frame's corrected slots;
    * ``attention [B, T, K, N]``: each frame's corrector attention over its ``N`` positions;
    * ``next_slots [B, K, D]``: the predictor's slots after the last frame (the next chunk's
      ``initial_slots``).
    """

    encoder: CNNEncoder
    slot_init: nn.Module
    slot_attention: SlotAttention
    decoder: SpatialBroadcastDecoder
    predictor: nn.Module | None = None

    @property
    def conditional(self) -> bool:
        """Whether the initialiser takes conditioning (the first frame's boxes or centres)."""
        return getattr(self.slot_init, "conditional", False)

    def initial_slots(
        self, batch_size: int, slot_noise: jnp.ndarray | None, conditioning: jnp.ndarray | None
    ) -> jnp.ndarray:
        """The first frame's slots ``[B, K, D]`` from the initialiser."""
        if self.conditional:
            return self.slot_init(batch_size, slot_noise, conditioning)
        return self.slot_init(batch_size, slot_noise)

    @nn.compact
    def __call__(
        self, video: jnp.ndarray, slot_noise: jnp.ndarray | None = None,
        conditioning: jnp.ndarray | None = None, initial_slots: jnp.ndarray | None = None,
    ) -> dict[str, jnp.ndarray]:
        check_rank(video, 5, "The video", "[B, T, H, W, C]")
        b, t = video.shape[:2]
        frames = video.reshape(b * t, *video.shape[2:])
        check_image(frames, self.decoder.output_size)
        if initial_slots is not None:
            check_rank(initial_slots, 3, "SAVi initial_slots", "[B, K, D]")
            if initial_slots.shape[0] != b:
                raise ValueError(
                    f"SAVi: initial_slots batch {initial_slots.shape[0]} != video batch {b}."
                )
        features = self.encoder(frames)
        features = features.reshape(b, t, *features.shape[1:])
        if initial_slots is None:
            initial_slots = self.initial_slots(b, slot_noise, conditioning)
        # the scan's carry: float32 whatever the computation's dtype
        slots = initial_slots.astype(jnp.float32)
        next_slots, (slots, attention) = _scan_frames(self, slots, features)
        out = self.decoder(slots.reshape(b * t, *slots.shape[2:]))
        out = {key: value.reshape(b, t, *value.shape[1:]) for key, value in out.items()}
        out.update(slots=slots, attention=attention, next_slots=next_slots)
        return out
