"""A tiny model on tiny procedural data: trains, checkpoints and logs in well under a minute on CPU."""

from slot_jax.config_base import base_config, data_config
from slot_jax.models import sprites_model_config


def get_config():
    data = data_config("procedural_multi_dsprites/simple", (32, 32))
    data.num_train = 256
    data.num_eval = 64
    model = sprites_model_config(num_slots=4, image_size=(32, 32))
    model.slot_size = 32
    model.slot_attention.mlp_hidden_size = 64
    model.encoder.features = (16, 16)
    model.encoder.strides = (1, 1)
    model.encoder.mlp_features = (32, 32)
    model.decoder.features = (16, 16)
    model.decoder.strides = (1, 1)
    config = base_config(model, data)
    config.batch_size = 16
    config.num_train_steps = 60
    config.warmup_steps = 10
    config.decay_steps = 1_000
    config.log_every = 10
    config.image_log_every = 30
    config.checkpoint_every = 20
    config.eval_every = 30
    config.eval_batch_size = 32
    return config
