"""CLEVR-like ray-cast scenes with the CLEVR6 filter: the paper's CLEVR model, K = 7, 128x128."""

from slot_jax.config_base import base_config, data_config
from slot_jax.models import clevr_model_config


def get_config():
    data = data_config("procedural_clevr/clevr6", (128, 128))
    data.max_objects = 6
    return base_config(clevr_model_config(num_slots=7), data)
