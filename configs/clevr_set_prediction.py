"""CLEVR set prediction as in the paper: K = 10, strides 1-2-2-1, batch 512, 150k steps, no crop."""

from slot_jax.builder import set_prediction_model_config
from slot_jax.config_base import base_config, data_config


def get_config():
    data = data_config("clevr", (128, 128))
    data.crop = False
    data.targets = "set_prediction"
    data.max_set_size = 10
    data.cache = False
    config = base_config(set_prediction_model_config(num_slots=10), data)
    config.batch_size = 512
    config.num_train_steps = 150_000
    config.warmup_steps = 1_000
    config.decay_steps = 50_000
    config.eval_every = 10_000
    return config
