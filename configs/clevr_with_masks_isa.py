"""Invariant Slot Attention's CLEVR recipe (Biza et al., 2023) on DeepMind's CLEVR-with-masks
(up to 10 objects, K = 11, 128x128 after the CLEVR crop); the model and schedule of
configs/procedural_clevr_isa.py."""

from slot_jax.config_base import base_config, data_config, isa_training
from slot_jax.models import isa_clevr_model_config


def get_config():
    data = data_config("clevr_with_masks", (128, 128))
    data.manual_dir = "~/tensorflow_datasets/downloads/manual"
    data.cache = False  # 100k images: stream from disk
    config = base_config(isa_clevr_model_config("translation_scale", num_slots=11), data)
    return isa_training(config, 500_000, warmup_steps=10_000)
