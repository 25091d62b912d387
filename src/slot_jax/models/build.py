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
    if cfg.slot_init not in SLOT_INITIALISERS:
        raise ValueError(
            f"Unknown config.model.slot_init={cfg.slot_init!r}; choose one of "
            f"{sorted(SLOT_INITIALISERS)}."
        )
    return SLOT_INITIALISERS[cfg.slot_init](num_slots=cfg.num_slots, slot_size=cfg.slot_size)


def resolve_dtype(name: str):
    """``"float32"``/``"bfloat16"`` -> the jnp dtype; a clear error otherwise."""
    if name not in DTYPES:
        raise ValueError(f"Unknown config.dtype={name!r}; choose one of {sorted(DTYPES)}.")
    return DTYPES[name]


def build_model(cfg: ml_collections.ConfigDict, dtype: str = "float32") -> nn.Module:
    """Returns the model a config's ``model`` section describes (see :mod:`slot_jax.models.presets`).

    ``dtype`` is the computation dtype (``config.dtype``: "float32" or "bfloat16"); parameters and
    the composited reconstruction stay float32.
    """
    dtype = resolve_dtype(dtype)
    if cfg.architecture == "set_prediction":
        return SetPredictionModel(
            encoder=build_encoder(cfg, dtype), slot_init=build_slot_init(cfg),
            slot_attention=build_slot_attention(cfg, dtype), head_features=tuple(cfg.head.features),
        )
    if cfg.architecture != "autoencoder":
        raise ValueError(
            f"Unknown config.model.architecture={cfg.architecture!r}; "
            "choose 'autoencoder' or 'set_prediction'."
        )
    dec = cfg.decoder
    decoder = SpatialBroadcastDecoder(
        broadcast_size=tuple(dec.broadcast_size), features=tuple(dec.features),
        strides=tuple(dec.strides), kernel_size=dec.kernel_size,
        output_kernel_size=dec.output_kernel_size, num_channels=cfg.num_channels, dtype=dtype,
    )
    up = math.prod(dec.strides)
    out = (dec.broadcast_size[0] * up, dec.broadcast_size[1] * up)
    if out != tuple(cfg.image_size):
        raise ValueError(
            f"config.model.decoder produces {out[0]}x{out[1]} images (broadcast "
            f"{tuple(dec.broadcast_size)} x strides {tuple(dec.strides)}) but "
            f"config.model.image_size is {tuple(cfg.image_size)}; make them agree."
        )
    return SlotAutoencoder(
        encoder=build_encoder(cfg, dtype), slot_init=build_slot_init(cfg),
        slot_attention=build_slot_attention(cfg, dtype), decoder=decoder,
    )
