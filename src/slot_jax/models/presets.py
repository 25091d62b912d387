"""The paper's model presets: ``ml_collections.ConfigDict`` model sections for :func:`build_model`.

:func:`clevr_model_config` (object discovery on CLEVR), :func:`sprites_model_config`
(Multi-dSprites, Tetrominoes) and :func:`set_prediction_model_config` (CLEVR property prediction).
"""

from __future__ import annotations

import ml_collections

from slot_jax.properties import NUM_PROPERTIES


def _common(num_slots: int, image_size: tuple[int, int], width: int) -> ml_collections.ConfigDict:
    cfg = ml_collections.ConfigDict()
    cfg.architecture = "autoencoder"
    cfg.image_size = image_size
    cfg.num_channels = 3
    cfg.num_slots = num_slots
    cfg.slot_size = 64
    cfg.slot_init = "gaussian"
    cfg.slot_attention = ml_collections.ConfigDict(
        dict(num_iterations=3, mlp_hidden_size=128, epsilon=1e-8, num_heads=1, implicit_grad=False)
    )
    cfg.encoder = ml_collections.ConfigDict(
        dict(features=(width,) * 4, kernel_size=5, strides=(1, 1, 1, 1), mlp_features=(64, 64))
    )
    return cfg


def clevr_model_config(num_slots: int = 7) -> ml_collections.ConfigDict:
    """The paper's CLEVR object-discovery model: 128x128, 64-channel CNNs, 8x8 broadcast."""
    cfg = _common(num_slots, (128, 128), 64)
    cfg.decoder = ml_collections.ConfigDict(
        dict(
            broadcast_size=(8, 8), features=(64,) * 5, strides=(2, 2, 2, 2, 1),
            kernel_size=5, output_kernel_size=3,
        )
    )
    return cfg


def sprites_model_config(
    num_slots: int = 6, image_size: tuple[int, int] = (64, 64)
) -> ml_collections.ConfigDict:
    """The paper's sprites model (Multi-dSprites, Tetrominoes): 32-channel CNNs, full-res broadcast."""
    cfg = _common(num_slots, image_size, 32)
    cfg.decoder = ml_collections.ConfigDict(
        dict(
            broadcast_size=image_size, features=(32,) * 3, strides=(1, 1, 1),
            kernel_size=5, output_kernel_size=3,
        )
    )
    return cfg


def set_prediction_model_config(num_slots: int = 10) -> ml_collections.ConfigDict:
    """The paper's CLEVR set-prediction model: 128x128, encoder strides (1, 2, 2, 1), 19-d head."""
    cfg = _common(num_slots, (128, 128), 64)
    cfg.architecture = "set_prediction"
    cfg.encoder.strides = (1, 2, 2, 1)
    cfg.head = ml_collections.ConfigDict(dict(features=(64, NUM_PROPERTIES)))
    return cfg
