"""Shared tiny models for the unit tests (small shapes keep CPU compile times low)."""

import jax
import pytest

import slot_jax


def tiny_clevr_config(num_slots: int = 3):
    """CLEVR architecture (strided transposed decoder), shrunk: 2x2 broadcast -> 16x16."""
    cfg = slot_jax.clevr_model_config(num_slots)
    cfg.image_size = (16, 16)
    cfg.slot_size = 16
    cfg.slot_attention.mlp_hidden_size = 16
    cfg.encoder.features = (8, 8)
    cfg.encoder.strides = (1, 1)
    cfg.encoder.mlp_features = (16, 16)
    cfg.decoder.broadcast_size = (2, 2)
    cfg.decoder.features = (8, 8, 8, 8)
    cfg.decoder.strides = (2, 2, 2, 1)
    return cfg


def tiny_sprites_config(num_slots: int = 3):
    """Sprites architecture (full-resolution broadcast, stride-1 convs), shrunk to 12x12."""
    cfg = slot_jax.sprites_model_config(num_slots, (12, 12))
    cfg.slot_size = 16
    cfg.slot_attention.mlp_hidden_size = 16
    cfg.encoder.features = (8, 8)
    cfg.encoder.strides = (1, 1)
    cfg.encoder.mlp_features = (16, 16)
    cfg.decoder.features = (8, 8)
    cfg.decoder.strides = (1, 1)
    return cfg


def init_model(cfg, batch: int = 2, dtype: str = "float32"):
    model = slot_jax.build_model(cfg, dtype)
    h, w = cfg.image_size
    shape = (batch, h, w, cfg.num_channels)
    image = jax.random.uniform(jax.random.key(3), shape, minval=-1, maxval=1)
    variables = model.init({"params": jax.random.key(0), "slots": jax.random.key(1)}, image)
    return model, variables, image


@pytest.fixture(scope="session", params=["clevr", "sprites"])
def tiny_model(request):
    cfg = tiny_clevr_config() if request.param == "clevr" else tiny_sprites_config()
    return (cfg, *init_model(cfg))
