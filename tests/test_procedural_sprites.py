"""Procedural Multi-dSprites-like and Tetrominoes-like TFDS builders."""

import dataclasses

import numpy as np
import pytest
import tensorflow_datasets as tfds

from slot_jax.data.procedural import builders, scene, sprites, tetrominoes
from slot_jax.data.procedural.base import sized_config
from slot_jax.data.procedural.scene import to_uint8

SPRITES = builders.ProceduralMultiDsprites
TETROMINOES = builders.ProceduralTetrominoes
ALL_CONFIGS = [(SPRITES, name) for name in SPRITES.builder_configs] + [(TETROMINOES, "default")]
NUM = 12


def _ids(example: dict) -> np.ndarray:
    return example["ids"][..., 0]


@pytest.fixture(params=ALL_CONFIGS, ids=lambda p: f"{p[0].name}/{p[1]}")
def builder(request, tmp_path):
    cls, name = request.param
    return cls(config=name, data_dir=tmp_path)


def test_registered_names():
    assert tfds.builder_cls("procedural_multi_dsprites") is SPRITES
    assert tfds.builder_cls("procedural_tetrominoes") is TETROMINOES
    assert SPRITES.BUILDER_CONFIGS[0].name == "colored_on_grayscale"
    b = tfds.builder("procedural_multi_dsprites/binarized", data_dir="/nonexistent")
    assert (b.builder_config.num_train, b.builder_config.num_eval) == (10_000, 500)
    assert SPRITES.builder_configs["simple"].num_train == 5000
    assert len(tetrominoes.SHAPE_NAMES) == 17 == len(set(tetrominoes.SHAPE_NAMES))


def test_deterministic_by_seed(builder, tmp_path):
    config = builder.builder_config
    again = type(builder)(config=config.name, data_dir=tmp_path).make_example("train", 5)
    first = builder.make_example("train", 5)
    np.testing.assert_array_equal(first["image"], again["image"])
    np.testing.assert_array_equal(first["ids"], again["ids"])
    other_cfg = dataclasses.replace(config, name=f"{config.name}_seed1", seed=1)
    other = type(builder)(config=other_cfg, data_dir=tmp_path).make_example("train", 5)
    assert not np.array_equal(first["image"], other["image"])
    # Example i does not depend on how many examples are generated.
    short = [ex["image"] for _, ex in builder._generate_examples("train", 3)]
    long = [ex["image"] for _, ex in builder._generate_examples("train", 6)]
    assert all(np.array_equal(a, b) for a, b in zip(short, long[:3], strict=True))


def test_examples_differ_within_and_across_splits(builder):
    train = {builder.make_example("train", i)["image"].tobytes() for i in range(NUM)}
    test = {builder.make_example("test", i)["image"].tobytes() for i in range(NUM)}
    assert len(train) == len(test) == NUM
    assert not train & test


@pytest.mark.parametrize("name", list(SPRITES.builder_configs))
def test_sprite_ids_match_image_and_paint_order(name, tmp_path):
    b = SPRITES(config=name, data_dir=tmp_path)
    config = b.builder_config
    for i in range(NUM):
        ex = b.make_example("train", i)
        image, ids, objects = ex["image"], _ids(ex), ex["objects"]
        n = len(objects["shape"])
        assert config.min_objects <= n <= config.max_objects
        assert image.shape == (config.height, config.width, 3) and image.dtype == np.uint8
        assert ids.dtype == np.uint8 and ids.max() <= n
        bg = image[ids == 0]
        assert len(bg) and (bg == bg[0]).all()  # one uniform background colour
        if config.background == "black":
            assert (bg == 0).all()
        if config.background == "grayscale":
            assert bg[0, 0] == bg[0, 1] == bg[0, 2]
        masks = sprites.sprite_masks(config, **{
            k: objects[k] for k in ("shape", "scale", "orientation", "x", "y")
        })
        np.testing.assert_array_equal(ids > 0, masks.any(axis=0))
        np.testing.assert_array_equal(ids == n, masks[n - 1])  # the last painted is fully visible
        for k in range(1, n + 1):
            region = ids == k
            assert not (region & ~masks[k - 1]).any()
            assert objects["visible_pixels"][k - 1] == region.sum()
            if region.any():
                expected = 255 if config.sprite_colors == "white" else to_uint8(objects["color"][k - 1])
                assert (image[region] == expected).all()
        if config.min_visible_pixels:
            assert objects["visible_pixels"].min() >= config.min_visible_pixels


def test_clustered_sprites_sit_together_at_a_random_spot(tmp_path):
    config = SPRITES(config="clustered", data_dir=tmp_path).builder_config
    spread = config.cluster_spread
    centres = []
    for i in range(3 * NUM):
        rng = scene.example_rng(config.seed, "train", i)
        objects = sprites.generate_sprites(rng, config)["objects"]
        for axis in ("x", "y"):
            pos = objects[axis]
            assert pos.min() >= 0.0 and pos.max() <= 1.0
            assert pos.max() - pos.min() <= 2 * spread  # one cluster per scene
        centres.append([objects["x"].mean(), objects["y"].mean()])
    centres = np.array(centres)
    assert (centres.min(axis=0) < 0.4).all() and (centres.max(axis=0) > 0.6).all()  # anywhere
    rngs = [np.random.default_rng(i) for i in range(8)]
    xs = np.concatenate([sprites.sample_positions(rng, config, 3) for rng in rngs])
    assert not np.isin(xs, sprites.POSITIONS).all()  # continuous, unlike the dSprites grid


def test_tetrominoes_pieces_match_image(tmp_path):
    b = TETROMINOES(config="default", data_dir=tmp_path)
    config = b.builder_config
    cell_pixels = config.cell_size**2
    for i in range(NUM):
        ex = b.make_example("train", i)
        image, ids, objects = ex["image"], _ids(ex), ex["objects"]
        assert image.shape == (35, 35, 3) and ids.max() == len(objects["shape"]) == 3
        assert (image[ids == 0] == 0).all()
        np.testing.assert_array_equal(objects["visible_pixels"], [4 * cell_pixels] * 3)  # no overlap
        for k in range(1, 4):
            ys, xs = np.nonzero(ids == k)
            box = ids[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] == k
            pattern = tetrominoes.piece_pattern(int(objects["shape"][k - 1]), config.cell_size, False)
            np.testing.assert_array_equal(box, pattern > 0)
            lit = tetrominoes.COLOR_RGB[objects["color"][k - 1]] > 0
            assert ((image[ids == k] > 0) == lit).all()
            centroid = [(xs.mean() + 0.5) / 35, (ys.mean() + 0.5) / 35]
            np.testing.assert_allclose([objects["x"][k - 1], objects["y"][k - 1]], centroid, atol=1e-6)


@pytest.mark.parametrize("cls,name", [(SPRITES, "colored_on_grayscale"), (TETROMINOES, "default")])
def test_tfds_load_tiny_config(cls, name, tmp_path):
    config = sized_config(cls, name, num_train=8, num_eval=3)
    assert config.name == f"{name}_8_3"
    ds, info = tfds.load(
        cls.name, split="train", data_dir=tmp_path, builder_kwargs={"config": config}, with_info=True
    )
    assert info.splits["train"].num_examples == 8 and info.splits["test"].num_examples == 3
    h, w = config.height, config.width
    stored = set()
    for ex in tfds.as_numpy(ds):
        assert ex["image"].shape == (h, w, 3) and ex["image"].dtype == np.uint8
        assert ex["ids"].shape == (h, w, 1) and ex["ids"].dtype == np.uint8
        n = len(ex["objects"]["shape"])
        assert ex["objects"]["x"].shape == (n,) and ex["objects"]["x"].dtype == np.float32
        assert ex["objects"]["visible_pixels"].dtype == np.int32
        stored.add(ex["image"].tobytes())
    generated = cls(config=config, data_dir=tmp_path)
    assert stored == {generated.make_example("train", i)["image"].tobytes() for i in range(8)}


def test_sizes_land_in_separate_directories(tmp_path):
    assert sized_config(SPRITES, "simple") is SPRITES.builder_configs["simple"]
    assert sized_config("procedural_multi_dsprites", "simple", 5000, 256).name == "simple"
    dirs = set()
    for num_train, num_eval in ((4, 2), (6, 0)):
        config = sized_config(SPRITES, "simple", num_train=num_train, num_eval=num_eval)
        b = tfds.builder("procedural_multi_dsprites", config=config, data_dir=tmp_path)
        b.download_and_prepare()
        assert b.info.splits["train"].num_examples == num_train
        assert ("test" in b.info.splits) == (num_eval > 0)  # an empty split is left out
        dirs.add(b.data_dir)
    assert len(dirs) == 2
    with pytest.raises(ValueError, match="no config"):
        sized_config(SPRITES, "nope", 4, 2)


def test_paint_order_ids_and_visible_pixels():
    masks = np.zeros((3, 4, 4), bool)
    masks[0, :2, :2] = True
    masks[1, 1:3, 1:3] = True
    masks[2, 1, 1] = True  # on top of both
    ids = scene.paint_order_ids(masks)
    assert ids[0, 0] == 1 and ids[1, 1] == 3 and ids[2, 2] == 2 and ids[3, 3] == 0
    np.testing.assert_array_equal(scene.visible_pixels(ids, 3), [3, 3, 1])


def test_hsv_to_rgb_matches_colorsys():
    import colorsys

    hsv = np.random.default_rng(0).uniform(size=(200, 3))
    expected = np.array([colorsys.hsv_to_rgb(*c) for c in hsv])
    np.testing.assert_allclose(sprites.hsv_to_rgb(hsv), expected, atol=1e-12)
