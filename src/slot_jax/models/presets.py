"""The paper's model presets: ``ml_collections.ConfigDict`` model sections for :func:`build_model`.

:func:`clevr_model_config` (object discovery on CLEVR), :func:`sprites_model_config`
(Multi-dSprites, Tetrominoes) and :func:`set_prediction_model_config` (CLEVR property prediction);
:func:`invariant_model_config` turns an autoencoder section into Invariant Slot Attention, and
:func:`isa_tetrominoes_model_config`, :func:`isa_clevr_model_config` are the ISA paper's models.
:func:`savi_model_config` is SAVi-S (video); :func:`tiny_savi_model_config` a small one for tests.
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
        dict(
            kind="standard", num_iterations=3, mlp_hidden_size=128, epsilon=1e-8, num_heads=1,
            implicit_grad=False,
        )
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


def invariant_model_config(
    cfg: ml_collections.ConfigDict, kind: str = "translation_scale", scales_factor: float = 1.0
) -> ml_collections.ConfigDict:
    """``cfg`` (an autoencoder section) with Invariant Slot Attention of ``kind``.

    Sets ``slot_attention.kind`` and the ISA keys (``grid_hidden_size`` 128,
    ``add_rel_pos_to_values`` True, ``scales_factor``), random initial poses
    (``slot_init="random_poses"``; or ``"learned_poses"``) and ``decoder.backbone="cnn"`` (or
    ``"mlp"``). The encoder then adds no absolute position embedding.
    """
    cfg = ml_collections.ConfigDict(cfg.to_dict())
    cfg.slot_init = "random_poses"
    cfg.slot_attention.kind = kind
    cfg.slot_attention.grid_hidden_size = 128
    cfg.slot_attention.add_rel_pos_to_values = True
    cfg.slot_attention.scales_factor = scales_factor
    cfg.decoder.backbone = "cnn"
    return cfg


def isa_tetrominoes_model_config(kind: str = "translation") -> ml_collections.ConfigDict:
    """The ISA paper's Tetrominoes model: 35x35, K = 4, 4 x Conv(64, 5x5) stride 1, a per-pixel
    MLP decoder (the reference's 5 hidden layers of 256 and an activated 256 output)."""
    cfg = invariant_model_config(sprites_model_config(4, (35, 35)), kind)
    cfg.encoder.features = (64,) * 4
    cfg.decoder.backbone = "mlp"
    cfg.decoder.features = (256,) * 6
    cfg.decoder.strides = (1,) * 6
    cfg.decoder.output_kernel_size = 1
    return cfg


def isa_clevr_model_config(
    kind: str = "translation_scale", num_slots: int = 11
) -> ml_collections.ConfigDict:
    """The ISA paper's CLEVR model: 128x128, encoder strides 2, 2, 2, 1 (a 16x16 map), decoder
    broadcast at 16x16 and 5 x Conv(64, 5x5) with strides 2, 2, 2, 1, 1 to 128, scales_factor 5."""
    cfg = invariant_model_config(clevr_model_config(num_slots), kind, scales_factor=5.0)
    cfg.encoder.strides = (2, 2, 2, 1)
    cfg.decoder.broadcast_size = (16, 16)
    cfg.decoder.strides = (2, 2, 2, 1, 1)
    cfg.decoder.output_kernel_size = 1
    return cfg


def savi_model_config(
    num_slots: int = 11, slot_init: str = "boxes", image_size: tuple[int, int] = (64, 64)
) -> ml_collections.ConfigDict:
    """SAVi-S (Kipf et al., 2022; the repository's ``savi_conditional_small``), for MOVi at 64x64.

    Encoder 4 x Conv(32, 5x5) stride 1, position embedding, LayerNorm, MLP (64, 32); slot size 128;
    corrector: Slot Attention with 1 iteration; predictor: a transformer block with 4 heads, qkv
    128, MLP 256; decoder broadcast at 8x8, 3 transposed Conv(64, 5x5) stride 2 + Conv(64, 5x5),
    a 1x1 output. ``slot_init``: ``"boxes"`` (SAVi-S's conditioning) or ``"centres"``, or
    unconditional ``"gaussian"`` / ``"learned_queries"``. ``num_slots``: the objects plus one for
    the background (MOVi-A to C hold up to 10 objects; MOVi-D and E, 23).

    Where ours differs: the corrector keeps Slot Attention's residual MLP (hidden 256), which
    SAVi-S leaves out; the position embedding is the Slot Attention paper's 4-channel grid, an
    affine map of SAVi's 2-channel one, so the same after its dense layer.
    """
    cfg = _common(num_slots, image_size, 32)
    cfg.architecture = "savi"
    cfg.slot_init = slot_init
    cfg.slot_size = 128
    cfg.encoder.mlp_features = (64, 32)
    cfg.slot_attention.num_iterations = 1
    cfg.slot_attention.mlp_hidden_size = 256
    cfg.predictor = ml_collections.ConfigDict(
        dict(kind="transformer", num_heads=4, qkv_size=128, mlp_size=256)
    )
    cfg.decoder = ml_collections.ConfigDict(
        dict(
            broadcast_size=(image_size[0] // 8, image_size[1] // 8), features=(64,) * 4,
            strides=(2, 2, 2, 1), kernel_size=5, output_kernel_size=1,
        )
    )
    return cfg


def tiny_savi_model_config(
    num_slots: int = 3, slot_init: str = "boxes", image_size: tuple[int, int] = (8, 8)
) -> ml_collections.ConfigDict:
    """A SAVi small enough for unit tests: 8-channel 3x3 convs, slot size 16, a 2-head predictor,
    decoder broadcast at half the image size with one stride-2 layer."""
    cfg = savi_model_config(num_slots, slot_init, image_size)
    cfg.slot_size = 16
    cfg.encoder.update(dict(features=(8, 8), kernel_size=3, strides=(1, 1), mlp_features=(16, 16)))
    cfg.slot_attention.mlp_hidden_size = 32
    cfg.predictor.update(dict(num_heads=2, qkv_size=16, mlp_size=32))
    cfg.decoder.update(
        dict(
            broadcast_size=(image_size[0] // 2, image_size[1] // 2), features=(8, 8),
            strides=(2, 1), kernel_size=3,
        )
    )
    return cfg
