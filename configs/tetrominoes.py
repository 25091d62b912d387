"""Tetrominoes from the DeepMind files: sprites architecture at 35x35, K = 4."""

from slot_jax.config_base import base_config, data_config
from slot_jax.models import sprites_model_config


def get_config():
    data = data_config("tetrominoes", (35, 35))
    data.manual_dir = "~/tensorflow_datasets/downloads/manual"
    return base_config(sprites_model_config(num_slots=4, image_size=(35, 35)), data)
