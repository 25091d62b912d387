"""SAVi-S on MOVi-A (Kipf et al., 2022; the repository's ``savi_conditional_small``): 64x64 frames,
K = 11 slots (up to 10 objects and the background), each object's slot initialised from its
first-frame box; batch 64, 100k steps, Adam lr 2e-4 with a 2.5k-step warm-up and cosine decay,
global-norm clip 0.05; training on random 6-frame windows (``data.train_frames``), evaluation on
whole 24-frame videos in slices of 6 frames carrying the slots over (``eval_slice_size``).

Reads ``movi_a/128x128`` in TFDS format from ``--config.data.data_dir`` (the public copy is
``gs://kubric-public/tfds``)."""

from slot_jax.config_base import base_config, data_config, savi_training
from slot_jax.models import savi_model_config


def get_config():
    data = data_config("movi_a/128x128", (64, 64))
    data.train_frames = 6
    data.cache = False  # preprocessed, MOVi-A's training videos would hold about 15 GB in memory
    config = savi_training(base_config(savi_model_config(11, "boxes", (64, 64)), data), 100_000,
                           warmup_steps=2_500)
    config.eval_slice_size = 6
    config.eval_every = 10_000
    return config
