"""Set prediction on the CLEVR-like procedural scenes (3-10 objects): the paper's model, offline."""

from slot_jax.config_base import set_prediction_config


def get_config():
    return set_prediction_config("procedural_clevr")
