"""Invariant Slot Attention's CLEVR recipe (Biza et al., 2023) on procedural CLEVR-like scenes:
128x128, K = 11, translation + scale poses (scales_factor 5), encoder strides 2, 2, 2, 1, decoder
broadcast at 16x16 and upsampled to 128; batch 64, 500k steps, lr 4e-4 with a 10k-step linear
warm-up and cosine decay, global-norm clip 0.05. Switch the variant with
``--config.model.slot_attention.kind=translation_rotation_scale`` (or ``translation``)."""

from slot_jax.config_base import base_config, data_config, isa_training
from slot_jax.models import isa_clevr_model_config


def get_config():
    data = data_config("procedural_clevr", (128, 128))
    config = base_config(isa_clevr_model_config("translation_scale", num_slots=11), data)
    return isa_training(config, 500_000, warmup_steps=10_000)
