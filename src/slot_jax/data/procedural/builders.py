"""The procedural TFDS builders; importing this module registers them.

Each stores the canonical examples of its generator module (:mod:`.sprites`, :mod:`.tetrominoes`,
:mod:`.clevr_like`, :mod:`.moving_sprites`); its configs are that module's presets, and each config
class is the TFDS ``BuilderConfig`` with the generator's options as further (keyword-only) fields.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from slot_jax.data.procedural import clevr_like, clevr_render, moving_sprites, sprites, tetrominoes
from slot_jax.data.procedural.base import (
    ProceduralBuilder,
    builder_configs,
    canonical_features,
    video_features,
)

_SCALAR = dict(shape=(), dtype=np.float32)


def _sprite_features() -> dict[str, tfds.features.FeatureConnector]:
    """The per-object features of a dSprites sprite (:mod:`.sprites`)."""
    return {
        "shape": tfds.features.ClassLabel(names=sprites.SHAPE_NAMES),
        "scale": tfds.features.Tensor(**_SCALAR),
        "orientation": tfds.features.Tensor(**_SCALAR),
        "x": tfds.features.Tensor(**_SCALAR),
        "y": tfds.features.Tensor(**_SCALAR),
        "color": tfds.features.Tensor(shape=(3,), dtype=np.float32),
    }


@dataclasses.dataclass(eq=False)
class SpritesConfig(tfds.core.BuilderConfig, sprites.SpritesOptions):
    """A ``procedural_multi_dsprites`` config (options: :class:`.sprites.SpritesOptions`)."""


@dataclasses.dataclass(eq=False)
class MovingSpritesConfig(tfds.core.BuilderConfig, moving_sprites.MovingSpritesOptions):
    """A ``procedural_moving_sprites`` config (options:
    :class:`.moving_sprites.MovingSpritesOptions`)."""


@dataclasses.dataclass(eq=False)
class TetrominoesConfig(tfds.core.BuilderConfig, tetrominoes.TetrominoesOptions):
    """A ``procedural_tetrominoes`` config (options: :class:`.tetrominoes.TetrominoesOptions`)."""


@dataclasses.dataclass(eq=False)
class ClevrConfig(tfds.core.BuilderConfig, clevr_like.ClevrOptions):
    """A ``procedural_clevr`` config (options: :class:`.clevr_like.ClevrOptions`)."""


class ProceduralMultiDsprites(ProceduralBuilder):
    """Multi-dSprites-like scenes (square, ellipse, heart sprites with occlusion), generated offline."""

    GENERATOR = sprites
    BUILDER_CONFIGS = builder_configs(SpritesConfig, sprites.PRESETS)

    def _features(self) -> tfds.features.FeaturesDict:
        config = self.builder_config
        return canonical_features(config.height, config.width, _sprite_features())


class ProceduralMovingSprites(ProceduralBuilder):
    """Videos of dSprites shapes moving at constant velocity, bouncing off the borders, generated
    offline."""

    GENERATOR = moving_sprites
    BUILDER_CONFIGS = builder_configs(MovingSpritesConfig, moving_sprites.PRESETS)

    def _features(self) -> tfds.features.FeaturesDict:
        config = self.builder_config
        objects = {**_sprite_features(), "vx": tfds.features.Tensor(**_SCALAR),
                   "vy": tfds.features.Tensor(**_SCALAR)}
        return video_features(
            config.num_frames, config.height, config.width, config.max_objects, objects
        )


class ProceduralTetrominoes(ProceduralBuilder):
    """Tetrominoes-like scenes (three coloured tetrominoes on black), generated offline."""

    GENERATOR = tetrominoes
    BUILDER_CONFIGS = builder_configs(TetrominoesConfig, tetrominoes.PRESETS)

    def _features(self) -> tfds.features.FeaturesDict:
        config = self.builder_config
        return canonical_features(config.height, config.width, {
            "shape": tfds.features.ClassLabel(names=tetrominoes.SHAPE_NAMES),
            "color": tfds.features.ClassLabel(names=tetrominoes.COLOR_NAMES),
            "x": tfds.features.Tensor(**_SCALAR),
            "y": tfds.features.Tensor(**_SCALAR),
        })


class ProceduralClevr(ProceduralBuilder):
    """CLEVR-like scenes (spheres, cubes, cylinders on a gray floor), ray-cast offline in numpy."""

    GENERATOR = clevr_like
    BUILDER_CONFIGS = builder_configs(ClevrConfig, clevr_like.PRESETS)

    def _features(self) -> tfds.features.FeaturesDict:
        config = self.builder_config
        return canonical_features(config.height, config.width, {
            "color": tfds.features.ClassLabel(names=clevr_render.COLOR_NAMES),
            "material": tfds.features.ClassLabel(names=clevr_render.MATERIAL_NAMES),
            "shape": tfds.features.ClassLabel(names=clevr_render.SHAPE_NAMES),
            "size": tfds.features.ClassLabel(names=clevr_render.SIZE_NAMES),
            "rotation": tfds.features.Tensor(**_SCALAR),
            "3d_coords": tfds.features.Tensor(shape=(3,), dtype=np.float32),
            "pixel_coords": tfds.features.Tensor(shape=(3,), dtype=np.float32),
        })
