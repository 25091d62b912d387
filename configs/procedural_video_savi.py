"""Conditional SAVi on small procedural videos, small enough for a CPU: 32x32 frames, 6 frames per
video, 2-3 sprites (``procedural_moving_sprites/tiny``), K = 4 slots (the background and one per
object), each object's slot initialised from its first-frame box; a small SAVi (slot size 32, a
2-head predictor); batch 16, 3k steps, lr 1e-3 with warm-up and cosine decay, clip 0.05.
Use ``--config.model.slot_init=centres`` to condition on centres of mass instead."""

from slot_jax.config_base import procedural_video_config


def get_config():
    return procedural_video_config("boxes")
