"""Conditional SAVi on small procedural videos, small enough for a CPU: 32x32 frames, 6 frames per
video, 2-3 sprites (``procedural_moving_sprites/tiny``), K = 4 slots (the background and one per
object), each object's slot initialised from its first-frame box; a small SAVi (slot size 64, a
2-head predictor, a decoder broadcast at 8x8); batch 8, 2k steps, lr 2e-3 with warm-up and cosine
decay, clip 0.05. About 9 minutes on one CPU core.

``tests/test_video_learning.py`` trains it on two seeds; ``experiments/video/README.md`` has the
measured runs. Use ``--config.model.slot_init=centres`` to condition on centres of mass instead.
"""

from slot_jax.config_base import procedural_video_config


def get_config():
    return procedural_video_config("boxes")
