"""Builds a model from an ``ml_collections.ConfigDict`` model section (see :mod:`.presets`)."""

from __future__ import annotations

import math

import flax.linen as nn
import jax.numpy as jnp
import ml_collections

from slot_jax.models.autoencoder import SlotAutoencoder
from slot_jax.models.decoder import SpatialBroadcastDecoder
from slot_jax.models.encoder import CNNEncoder
from slot_jax.models.invariant_autoencoder import InvariantSlotAutoencoder
from slot_jax.models.invariant_slot_attention import InvariantSlotAttention
from slot_jax.models.pose_init import POSE_INITIALISERS, PoseSlotInit
from slot_jax.models.poses import KINDS
from slot_jax.models.predictor import TransformerBlock
from slot_jax.models.relative_decoder import BACKBONES, RelativeBroadcastDecoder
from slot_jax.models.savi import SAVi
from slot_jax.models.set_prediction import SetPredictionModel
from slot_jax.models.slot_attention import SlotAttention
from slot_jax.models.slot_init import SLOT_INITIALISERS
from slot_jax.models.video_init import VIDEO_INITIALISERS

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
ARCHITECTURES = ("autoencoder", "set_prediction", "savi")
PREDICTORS = ("transformer", "identity")


def build_slot_attention(cfg: ml_collections.ConfigDict, dtype) -> SlotAttention:
    """``SlotAttention`` from ``cfg.slot_attention``."""
    sa = cfg.slot_attention
    return SlotAttention(
        num_iterations=sa.num_iterations, mlp_hidden_size=sa.mlp_hidden_size, epsilon=sa.epsilon,
        num_heads=sa.num_heads, implicit_grad=sa.implicit_grad, dtype=dtype,
    )


def build_encoder(
    cfg: ml_collections.ConfigDict, dtype, position_embedding: bool = True
) -> CNNEncoder:
    """``CNNEncoder`` from ``cfg.encoder`` (input channels ``cfg.num_channels``)."""
    enc = cfg.encoder
    return CNNEncoder(
        features=tuple(enc.features), kernel_size=enc.kernel_size, strides=tuple(enc.strides),
        mlp_features=tuple(enc.mlp_features), num_channels=cfg.num_channels,
        position_embedding=position_embedding, dtype=dtype,
    )


def slot_attention_kind(cfg: ml_collections.ConfigDict) -> str:
    """``cfg.slot_attention.kind``: ``"standard"`` (the paper; the default when unset) or one of
    the Invariant Slot Attention variants."""
    return cfg.slot_attention.get("kind", "standard")


def build_invariant_autoencoder(cfg: ml_collections.ConfigDict, dtype) -> InvariantSlotAutoencoder:
    """``InvariantSlotAutoencoder`` from a model section whose ``slot_attention.kind`` is invariant."""
    sa, dec, kind = cfg.slot_attention, cfg.decoder, slot_attention_kind(cfg)
    isa = InvariantSlotAttention(
        kind=kind, num_iterations=sa.num_iterations, mlp_hidden_size=sa.mlp_hidden_size,
        grid_hidden_size=sa.grid_hidden_size, epsilon=sa.epsilon,
        add_rel_pos_to_values=sa.add_rel_pos_to_values, scales_factor=sa.scales_factor,
        dtype=dtype,
    )
    decoder = RelativeBroadcastDecoder(
        broadcast_size=tuple(dec.broadcast_size), features=tuple(dec.features),
        strides=tuple(dec.strides), kernel_size=dec.kernel_size,
        output_kernel_size=dec.output_kernel_size, num_channels=cfg.num_channels,
        backbone=dec.get("backbone", "cnn"), scales_factor=sa.scales_factor, dtype=dtype,
    )
    slot_init = PoseSlotInit(
        num_slots=cfg.num_slots, slot_size=cfg.slot_size, kind=kind,
        learned=POSE_INITIALISERS[cfg.slot_init],
    )
    return InvariantSlotAutoencoder(
        encoder=build_encoder(cfg, dtype, position_embedding=False), slot_init=slot_init,
        slot_attention=isa, decoder=decoder,
    )


def slot_initialisers(cfg: ml_collections.ConfigDict) -> dict:
    """The initialisers ``cfg.slot_init`` may name: ``gaussian`` or ``learned_queries``, and for a
    video model (``architecture="savi"``) also the conditional ``boxes`` or ``centres``."""
    return VIDEO_INITIALISERS if cfg.architecture == "savi" else SLOT_INITIALISERS


def build_slot_init(cfg: ml_collections.ConfigDict) -> nn.Module:
    """The slot initialiser named by ``cfg.slot_init`` (see :func:`slot_initialisers`)."""
    initialisers = slot_initialisers(cfg)
    _check_choice("config.model.slot_init", cfg.slot_init, sorted(initialisers))
    return initialisers[cfg.slot_init](num_slots=cfg.num_slots, slot_size=cfg.slot_size)


def build_decoder(cfg: ml_collections.ConfigDict, dtype) -> SpatialBroadcastDecoder:
    """``SpatialBroadcastDecoder`` from ``cfg.decoder`` (output channels ``cfg.num_channels``)."""
    dec = cfg.decoder
    return SpatialBroadcastDecoder(
        broadcast_size=tuple(dec.broadcast_size), features=tuple(dec.features),
        strides=tuple(dec.strides), kernel_size=dec.kernel_size,
        output_kernel_size=dec.output_kernel_size, num_channels=cfg.num_channels, dtype=dtype,
    )


def build_savi(cfg: ml_collections.ConfigDict, dtype) -> SAVi:
    """``SAVi`` from a model section with ``architecture="savi"`` and a ``predictor`` section
    (``kind="transformer"`` with ``num_heads``, ``qkv_size``, ``mlp_size``; or ``"identity"``)."""
    pred = cfg.predictor
    predictor = None
    if pred.kind == "transformer":
        predictor = TransformerBlock(
            num_heads=pred.num_heads, qkv_size=pred.qkv_size, mlp_size=pred.mlp_size, dtype=dtype
        )
    return SAVi(
        encoder=build_encoder(cfg, dtype), slot_init=build_slot_init(cfg),
        slot_attention=build_slot_attention(cfg, dtype), decoder=build_decoder(cfg, dtype),
        predictor=predictor,
    )


def resolve_dtype(name: str):
    """``"float32"``/``"bfloat16"`` -> the jnp dtype; a clear error otherwise."""
    _check_choice("config.dtype", name, sorted(DTYPES))
    return DTYPES[name]


def _check_choice(key: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"Unknown {key}={value!r}; choose one of {list(choices)}.")


def decoder_output_size(dec: ml_collections.ConfigDict) -> tuple[int, int]:
    """``(H, W)`` the decoder section ``dec`` produces: ``broadcast_size * prod(strides)``."""
    up = math.prod(dec.strides)
    return (dec.broadcast_size[0] * up, dec.broadcast_size[1] * up)


def _check_convs(key: str, section: ml_collections.ConfigDict) -> None:
    strides, features = tuple(section.strides), tuple(section.features)
    if len(strides) != len(features):
        raise ValueError(
            f"{key}.strides={strides} and {key}.features={features} differ in length; give one "
            "stride per conv."
        )
    if not all(isinstance(s, int) and s >= 1 for s in strides):
        raise ValueError(f"{key}.strides={strides} must be integers >= 1.")


def _check_invariant(cfg: ml_collections.ConfigDict, kind: str) -> None:
    """The parts of a model section that Invariant Slot Attention (``kind``) needs."""
    key = f"config.model.slot_attention.kind={kind!r}"
    if cfg.slot_init not in POSE_INITIALISERS:
        raise ValueError(
            f"config.model.slot_init={cfg.slot_init!r} gives no poses, which {key} needs; choose "
            f"one of {sorted(POSE_INITIALISERS)}."
        )
    if cfg.architecture != "autoencoder":
        raise ValueError(
            f"{key} is built for object discovery only; set config.model.architecture="
            "'autoencoder' or config.model.slot_attention.kind='standard'."
        )
    if cfg.slot_attention.num_heads != 1:
        raise ValueError(
            f"config.model.slot_attention.num_heads={cfg.slot_attention.num_heads} but {key} has "
            "one head; set num_heads=1."
        )
    factor = cfg.slot_attention.get("scales_factor")
    if not (isinstance(factor, (int, float)) and not isinstance(factor, bool)
            and math.isfinite(factor) and factor > 0):
        raise ValueError(
            f"config.model.slot_attention.scales_factor={factor!r} must be a finite number > 0 "
            "(the reference: 1, or 5 for CLEVR)."
        )
    backbone = cfg.decoder.get("backbone", "cnn")
    _check_choice("config.model.decoder.backbone", backbone, BACKBONES)
    if backbone == "mlp" and any(s != 1 for s in cfg.decoder.strides):
        raise ValueError(
            f"config.model.decoder.backbone='mlp' decodes per pixel but "
            f"config.model.decoder.strides={tuple(cfg.decoder.strides)}; use strides of 1."
        )


def _check_predictor(cfg: ml_collections.ConfigDict) -> None:
    """A video model's ``predictor`` section: its kind, and heads that divide its width."""
    pred = cfg.get("predictor")
    if pred is None:
        raise ValueError(
            "config.model.architecture='savi' needs a config.model.predictor section; see "
            "slot_jax.savi_model_config."
        )
    _check_choice("config.model.predictor.kind", pred.kind, PREDICTORS)
    if pred.kind == "identity":
        return
    width = pred.get("qkv_size") or cfg.slot_size
    if not (isinstance(pred.num_heads, int) and pred.num_heads >= 1 and width % pred.num_heads == 0):
        raise ValueError(
            f"config.model.predictor.num_heads={pred.num_heads!r} must be an integer >= 1 that "
            f"divides the predictor's width {width} (qkv_size, or the slot size)."
        )


def check_model_config(cfg: ml_collections.ConfigDict, dtype: str = "float32") -> None:
    """Raises ValueError, naming the key and the fix, for a model section :func:`build_model` cannot
    build or whose images would not be ``cfg.image_size``: an unknown ``dtype``, architecture or
    slot initialiser, an unknown ``slot_attention.kind`` or one its other keys do not fit (see
    :func:`_check_invariant`), conv strides and features of different lengths, encoder strides
    that do not divide the image, a decoder output of another size, a slot size the heads do not
    divide, and for a video model (``architecture="savi"``) a predictor it cannot build."""
    resolve_dtype(dtype)
    _check_choice("config.model.architecture", cfg.architecture, ARCHITECTURES)
    kind = slot_attention_kind(cfg)
    _check_choice("config.model.slot_attention.kind", kind, KINDS)
    if kind != "standard":
        _check_invariant(cfg, kind)
    else:
        _check_choice("config.model.slot_init", cfg.slot_init, sorted(slot_initialisers(cfg)))
    if cfg.architecture == "savi":
        _check_predictor(cfg)
    size = tuple(cfg.image_size)
    if len(size) != 2 or not all(isinstance(n, int) and n >= 1 for n in size):
        raise ValueError(f"config.model.image_size={size} must be two integers >= 1 (height, width).")
    _check_convs("config.model.encoder", cfg.encoder)
    down = math.prod(cfg.encoder.strides)
    if size[0] % down or size[1] % down:
        raise ValueError(
            f"config.model.encoder.strides={tuple(cfg.encoder.strides)} downsample by {down}, which "
            f"does not divide config.model.image_size={size}; use strides whose product divides it."
        )
    heads, slot_size = cfg.slot_attention.num_heads, cfg.slot_size
    if isinstance(heads, int) and heads >= 1 and slot_size % heads:
        raise ValueError(
            f"config.model.slot_attention.num_heads={heads} does not divide "
            f"config.model.slot_size={slot_size}; use a divisor of the slot size."
        )
    if cfg.architecture == "set_prediction":
        return
    dec = cfg.decoder
    _check_convs("config.model.decoder", dec)
    out = decoder_output_size(dec)
    if out != size:
        raise ValueError(
            f"config.model.decoder produces {out[0]}x{out[1]} images (broadcast "
            f"{tuple(dec.broadcast_size)} x strides {tuple(dec.strides)}) but "
            f"config.model.image_size is {size}; make them agree."
        )


def build_model(cfg: ml_collections.ConfigDict, dtype: str = "float32") -> nn.Module:
    """Returns the model a config's ``model`` section describes (see :mod:`slot_jax.models.presets`):
    by ``architecture``, a ``SlotAutoencoder`` (or ``InvariantSlotAutoencoder``), a
    ``SetPredictionModel`` or a video model, ``SAVi``.

    ``dtype`` is the computation dtype (``config.dtype``: "float32" or "bfloat16"); parameters and
    the composited reconstruction stay float32. Raises ValueError for what
    :func:`check_model_config` rejects.
    """
    check_model_config(cfg, dtype)
    dtype = resolve_dtype(dtype)
    if slot_attention_kind(cfg) != "standard":
        return build_invariant_autoencoder(cfg, dtype)
    if cfg.architecture == "savi":
        return build_savi(cfg, dtype)
    if cfg.architecture == "set_prediction":
        return SetPredictionModel(
            encoder=build_encoder(cfg, dtype), slot_init=build_slot_init(cfg),
            slot_attention=build_slot_attention(cfg, dtype), head_features=tuple(cfg.head.features),
        )
    return SlotAutoencoder(
        encoder=build_encoder(cfg, dtype), slot_init=build_slot_init(cfg),
        slot_attention=build_slot_attention(cfg, dtype), decoder=build_decoder(cfg, dtype),
    )
