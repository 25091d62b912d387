"""CLEVR6 object discovery as in the paper: TFDS clevr:3.1.0, <= 6 objects, K = 7, 128x128."""

from slot_jax.config_base import base_config, data_config
from slot_jax.models import clevr_model_config


def get_config():
    data = data_config("clevr", (128, 128))
    data.max_objects = 6
    data.cache = False  # 70k images: stream from disk
    return base_config(clevr_model_config(num_slots=7), data)
