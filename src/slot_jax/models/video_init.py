"""SAVi's conditional slot initialiser, and the initialisers a video model can name."""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import flax.linen as nn
import jax.numpy as jnp

from slot_jax.models.layers import MLP
from slot_jax.models.slot_init import SLOT_INITIALISERS

# The width of each kind of coordinates: a box is ``[y0, x0, y1, x1]``, a centre ``[y, x]``.
COORDINATE_WIDTHS = {"boxes": 4, "centres": 2}


class CoordinateInit(nn.Module):
    """One slot per object from its first-frame coordinates (SAVi's ``CoordinateEncoderStateInit``).

    The coordinates of the ``K - 1`` objects get a zero "background" entry prepended, so slot 0
    takes the background, and each of the ``K`` entries goes through the same
    ``MLP: Dense(hidden_size, ReLU) -> Dense(slot_size)``. Deterministic: ``noise`` is ignored.

    Attributes:
      num_slots: K, the objects plus the background slot.
      slot_size: D.
      coordinates: ``"boxes"`` (``[y0, x0, y1, x1]``, SAVi's default) or ``"centres"``
        (centres of mass ``[y, x]``).
      hidden_size: the MLP's hidden width (SAVi: 256).
      dtype: computation dtype.
    """

    num_slots: int
    slot_size: int
    coordinates: str = "boxes"
    hidden_size: int = 256
    dtype: Any = None

    # A video model passes its conditioning to an initialiser that says it takes one.
    conditional: ClassVar[bool] = True

    @nn.compact
    def __call__(
        self, batch_size: int, noise: jnp.ndarray | None = None,
        conditioning: jnp.ndarray | None = None,
    ) -> jnp.ndarray:
        """Returns ``[batch_size, num_slots, slot_size]`` slots.

        Args:
          batch_size: B.
          noise: ignored (the initialiser is deterministic).
          conditioning: the objects' coordinates, ``[B, K - 1, 4]`` boxes or ``[B, K - 1, 2]``
            centres, in the first frame; ``[B, T, K - 1, C]`` (every frame's) uses frame 0.
        """
        del noise
        width = COORDINATE_WIDTHS.get(self.coordinates)
        if width is None:
            raise ValueError(
                f"CoordinateInit: unknown coordinates={self.coordinates!r}; choose one of "
                f"{sorted(COORDINATE_WIDTHS)}."
            )
        layout = f"[B, K - 1, {width}]"
        if conditioning is None:
            raise ValueError(
                f"CoordinateInit needs the first frame's {self.coordinates} {layout} as "
                "conditioning; pass conditioning= or choose an unconditional initialiser."
            )
        if conditioning.ndim == 4:
            conditioning = conditioning[:, 0]
        expected = (batch_size, self.num_slots - 1, width)
        if conditioning.ndim != 3 or tuple(conditioning.shape) != expected:
            raise ValueError(
                f"CoordinateInit: the {self.coordinates} must have shape {layout} = {expected} "
                f"(K = {self.num_slots} slots, one for the background), got "
                f"{tuple(conditioning.shape)}."
            )
        background = jnp.zeros((batch_size, 1, width), jnp.float32)
        coords = jnp.concatenate([background, conditioning.astype(jnp.float32)], axis=1)
        return MLP((self.hidden_size, self.slot_size), dtype=self.dtype, name="mlp")(coords)


# ``config.model.slot_init`` of a video model: the image initialisers and the conditional ones.
VIDEO_INITIALISERS = {
    **SLOT_INITIALISERS,
    **{name: functools.partial(CoordinateInit, coordinates=name) for name in COORDINATE_WIDTHS},
}
