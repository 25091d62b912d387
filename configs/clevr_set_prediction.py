"""CLEVR set prediction as in the paper: K = 10, strides 1-2-2-1, batch 512, 150k steps, no crop."""

from slot_jax.config_base import set_prediction_config


def get_config():
    config = set_prediction_config("clevr")
    config.data.cache = False  # 70k images: stream from disk
    return config
