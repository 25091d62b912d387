"""Builds a model from an ``ml_collections.ConfigDict`` model section (see :mod:`.presets`)."""

from __future__ import annotations

import math

import flax.linen as nn
import jax.numpy as jnp
import ml_collections

from slot_jax.models.autoencoder import SlotAutoencoder
from slot_jax.models.decoder import SpatialBroadcastDecoder
from slot_jax.models.encoder import CNNEncoder
from slot_jax.models.set_prediction import SetPredictionModel
from slot_jax.models.slot_attention import SlotAttention
from slot_jax.models.slot_init import SLOT_INITIALISERS

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
ARCHITECTURES = ("autoencoder", "set_prediction")


def build_slot_attention(cfg: ml_collections.ConfigDict, dtype) -> SlotAttention:
    """``SlotAttention`` from ``cfg.slot_attention``."""
    sa = cfg.slot_attention
    return SlotAttention(
        num_iterations=sa.num_iterations, mlp_hidden_size=sa.mlp_hidden_size, epsilon=sa.epsilon,
        num_heads=sa.num_heads, implicit_grad=sa.implicit_grad, dtype=dtype,
    )


def build_encoder(cfg: ml_collections.ConfigDict, dtype) -> CNNEncoder:
    """``CNNEncoder`` from ``cfg.encoder`` (input channels ``cfg.num_channels``)."""
    enc = cfg.encoder
    return CNNEncoder(
        features=tuple(enc.features), kernel_size=enc.kernel_size, strides=tuple(enc.strides),
        mlp_features=tuple(enc.mlp_features), num_channels=cfg.num_channels, dtype=dtype,
    )


def build_slot_init(cfg: ml_collections.ConfigDict) -> nn.Module:
    """The slot initialiser named by ``cfg.slot_init`` (``gaussian`` or ``learned_queries``)."""
    _check_choice("config.model.slot_init", cfg.slot_init, sorted(SLOT_INITIALISERS))
    return SLOT_INITIALISERS[cfg.slot_init](num_slots=cfg.num_slots, slot_size=cfg.slot_size)


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


def check_model_config(cfg: ml_collections.ConfigDict, dtype: str = "float32") -> None:
    """Raises ValueError, naming the key and the fix, for a model section :func:`build_model` cannot
    build or whose images would not be ``cfg.image_size``: an unknown ``dtype``, architecture or
    slot initialiser, conv strides and features of different lengths, encoder strides that do not
    divide the image, a decoder output of another size, a slot size the heads do not divide."""
    resolve_dtype(dtype)
    _check_choice("config.model.architecture", cfg.architecture, ARCHITECTURES)
    _check_choice("config.model.slot_init", cfg.slot_init, sorted(SLOT_INITIALISERS))
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
    if cfg.architecture != "autoencoder":
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
    """Returns the model a config's ``model`` section describes (see :mod:`slot_jax.models.presets`).

    ``dtype`` is the computation dtype (``config.dtype``: "float32" or "bfloat16"); parameters and
    the composited reconstruction stay float32. Raises ValueError for what
    :func:`check_model_config` rejects.
    """
    check_model_config(cfg, dtype)
    dtype = resolve_dtype(dtype)
    if cfg.architecture == "set_prediction":
        return SetPredictionModel(
            encoder=build_encoder(cfg, dtype), slot_init=build_slot_init(cfg),
            slot_attention=build_slot_attention(cfg, dtype), head_features=tuple(cfg.head.features),
        )
    dec = cfg.decoder
    decoder = SpatialBroadcastDecoder(
        broadcast_size=tuple(dec.broadcast_size), features=tuple(dec.features),
        strides=tuple(dec.strides), kernel_size=dec.kernel_size,
        output_kernel_size=dec.output_kernel_size, num_channels=cfg.num_channels, dtype=dtype,
    )
    return SlotAutoencoder(
        encoder=build_encoder(cfg, dtype), slot_init=build_slot_init(cfg),
        slot_attention=build_slot_attention(cfg, dtype), decoder=decoder,
    )
