"""Unconditional SAVi on the videos of ``configs/procedural_video_savi.py``: the same model and
training, with learned initial slots (``--config.model.slot_init=gaussian`` for Gaussian ones).
Track consistency needs conditioning (slot ``i`` is object ``i``'s), so it is not reported."""

from slot_jax.config_base import procedural_video_config


def get_config():
    return procedural_video_config("learned_queries")
