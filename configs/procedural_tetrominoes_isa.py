"""Invariant Slot Attention's Tetrominoes recipe (Biza et al., 2023) on procedural Tetrominoes-like
scenes: only 512 training and 100 held-out images, 35x35, K = 4, slot size 64, translation poses,
4 x Conv(64, 5x5) stride-1 encoder and a per-pixel MLP decoder; batch 64, 20k steps, lr 4e-4 with a
linear warm-up over the first 25% (5k steps) and cosine decay, global-norm clip 0.05."""

from slot_jax.config_base import base_config, data_config, isa_training
from slot_jax.models import isa_tetrominoes_model_config

STEPS = 20_000


def get_config():
    data = data_config("procedural_tetrominoes", (35, 35))
    data.num_train = 512
    data.num_eval = 100
    config = base_config(isa_tetrominoes_model_config("translation"), data)
    isa_training(config, STEPS, warmup_steps=STEPS // 4)
    config.checkpoint_every = 1_000
    config.eval_every = 1_000
    config.image_log_every = 1_000
    return config
