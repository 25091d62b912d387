"""Multi-dSprites (colored_on_grayscale) from the DeepMind files: sprites architecture, K = 6."""

from slot_jax.config_base import base_config, data_config
from slot_jax.models import sprites_model_config


def get_config():
    data = data_config("multi_dsprites/colored_on_grayscale", (64, 64))
    data.manual_dir = "~/tensorflow_datasets/downloads/manual"
    data.cache = False  # 1M images
    return base_config(sprites_model_config(num_slots=6), data)
