"""The learning test's config: a small Slot Attention autoencoder that separates sprites on CPU.

Procedural Multi-dSprites ``simple`` (2-3 large sprites on black, rendered at 32x32) resized to
16x16, K = 4 slots, the paper's sprites architecture scaled down (16-channel CNNs, slot size 32),
and a short schedule with a higher learning rate than the paper's (1e-3 rather than 4e-4, 50
warm-up steps, halved every 1,500 steps). ``tests/test_learning.py`` trains it on one device and
checks FG-ARI on the held-out split against trivial segmentations. By hand::

    python -m slot_jax.main --config=configs/learning_test.py --workdir=workdirs/learning_test

The outcome depends on the seed (see ``experiments/README.md``); the test fixes ``seed = 0``.
"""

from slot_jax.builder import sprites_model_config
from slot_jax.config_base import base_config, data_config

IMAGE_SIZE = (16, 16)


def get_config():
    data = data_config("procedural_multi_dsprites/simple", IMAGE_SIZE)
    data.num_train = 1024
    data.num_eval = 256
    model = sprites_model_config(num_slots=4, image_size=IMAGE_SIZE)
    model.slot_size = 32
    model.slot_attention.mlp_hidden_size = 64
    model.encoder.features = (16, 16, 16)
    model.encoder.strides = (1, 1, 1)
    model.encoder.mlp_features = (32, 32)
    model.decoder.features = (16, 16)
    model.decoder.strides = (1, 1)
    config = base_config(model, data)
    config.seed = 0
    config.batch_size = 32
    config.num_train_steps = 3_000
    config.learning_rate = 1e-3
    config.warmup_steps = 50
    config.decay_steps = 1_500
    config.log_every = 250
    config.image_log_every = 0
    config.checkpoint_every = 3_000
    config.eval_every = 0
    config.eval_batch_size = 64
    return config
