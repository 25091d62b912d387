"""The offline default: Multi-dSprites-like procedural scenes (colored_on_grayscale), K = 6.

The paper's sprites architecture and schedule; the data (10,000 training images by default) is
generated on first use, no download needed.
"""

from slot_jax.config_base import base_config, data_config
from slot_jax.models import sprites_model_config


def get_config():
    data = data_config("procedural_multi_dsprites/colored_on_grayscale", (64, 64))
    return base_config(sprites_model_config(num_slots=6), data)
