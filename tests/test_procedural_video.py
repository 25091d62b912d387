"""Procedural moving-sprites videos: determinism, tracks over time, boxes and centres, the TFDS
builder against the in-memory source, and the refusal of video data for an image model."""

import dataclasses

import numpy as np
import pytest
import tensorflow_datasets as tfds
from conftest import tiny_train_config

from slot_jax.config_base import data_config
from slot_jax.data import memory, pipeline, resolve
from slot_jax.data.procedural import builders, moving_sprites
from slot_jax.data.procedural.scene import canonical_example
from slot_jax.data.procedural.sprites import sprite_masks
from slot_jax.train import ConfigError, validate_config

TINY = moving_sprites.PRESETS["tiny"][1]
NUM = 8


def _video(index: int, options=TINY, split: str = "train") -> dict:
    return canonical_example(moving_sprites.generate, options, split, index)


def _full_masks(options, objects: dict) -> np.ndarray:
    """bool ``[N, T, H, W]``: each sprite's unoccluded mask in every frame, from its latents."""
    t = options.num_frames
    x = moving_sprites.trajectories(objects["x"], objects["vx"], t)
    y = moving_sprites.trajectories(objects["y"], objects["vy"], t)
    latents = {k: np.repeat(objects[k], t) for k in ("shape", "scale", "orientation")}
    masks = sprite_masks(options, **latents, x=x.ravel(), y=y.ravel())
    return masks.reshape(len(objects["x"]), t, options.height, options.width)


def test_layout_and_determinism_by_seed():
    video = _video(0)
    t, h, w, k = TINY.num_frames, TINY.height, TINY.width, TINY.max_objects
    assert video["video"].shape == (t, h, w, 3) and video["video"].dtype == np.uint8
    assert video["ids"].shape == (t, h, w, 1) and video["ids"].dtype == np.uint8
    assert video["boxes"].shape == (t, k, 4) and video["boxes"].dtype == np.float32
    assert video["centers"].shape == (t, k, 2) and video["centers"].dtype == np.float32
    again = _video(0)
    for key in ("video", "ids", "boxes", "centers"):
        np.testing.assert_array_equal(video[key], again[key])
    other_seed = _video(0, dataclasses.replace(TINY, seed=1))
    assert not np.array_equal(video["video"], other_seed["video"])
    assert not np.array_equal(video["video"], _video(1)["video"])
    assert not np.array_equal(video["video"], _video(0, split="test")["video"])


def test_bounce_keeps_positions_in_frame():
    np.testing.assert_allclose(
        moving_sprites.bounce(np.array([-0.2, 0.3, 1.2, 2.3, 3.9])), [0.2, 0.3, 0.8, 0.3, 0.1],
        atol=1e-6)
    path = moving_sprites.trajectories(np.array([0.9, 0.1]), np.array([0.3, -0.25]), 40)
    assert path.min() >= 0.0 and path.max() <= 1.0
    steps = np.abs(np.diff(path, axis=1))
    assert np.all(steps <= np.array([[0.3], [0.25]]) + 1e-6)  # never faster than its velocity
    assert np.any(np.diff(np.sign(np.diff(path[0]))) != 0)  # it turned back at a border


def test_objects_move_and_keep_their_ids():
    moved = False
    for index in range(NUM):
        video = _video(index)
        ids, objects = video["ids"][..., 0], video["objects"]
        full = _full_masks(TINY, objects)
        n = len(objects["x"])
        assert ids.max() <= n
        for i in range(n):
            assert full[i].any(axis=(1, 2)).all()  # in frame, every frame
            # id i + 1 only where sprite i is, in every frame, with the sprite's colour
            assert not np.any((ids == i + 1) & ~full[i])
            colour = np.round(objects["color"][i] * 255)
            np.testing.assert_array_equal(video["video"][ids == i + 1], np.broadcast_to(
                colour, video["video"][ids == i + 1].shape))
            # consecutive frames of one sprite overlap: the id follows a nearby object
            overlap = (full[i, 1:] & full[i, :-1]).any(axis=(1, 2))
            assert overlap.all()
            moved |= not np.array_equal(full[i, 0], full[i, -1])
        assert (ids[0] > 0).any() and objects["visible_pixels"].min() > 0
    assert moved


def test_boxes_and_centers_match_the_ids():
    for index in range(NUM):
        video = _video(index)
        ids = video["ids"][..., 0]
        t, h, w = ids.shape
        for f in range(t):
            for i in range(TINY.max_objects):
                ys, xs = np.nonzero(ids[f] == i + 1)
                box, centre = video["boxes"][f, i], video["centers"][f, i]
                if not len(ys):  # hidden or padding: zeros
                    assert not box.any() and not centre.any()
                    continue
                expected = [ys.min() / h, xs.min() / w, (ys.max() + 1) / h, (xs.max() + 1) / w]
                np.testing.assert_allclose(box, expected, atol=1e-6)
                np.testing.assert_allclose(
                    centre, [(ys.mean() + 0.5) / h, (xs.mean() + 0.5) / w], atol=1e-6)


def test_registered_as_video():
    assert tfds.builder_cls("procedural_moving_sprites") is builders.ProceduralMovingSprites
    assert builders.ProceduralMovingSprites.BUILDER_CONFIGS[0].name == "standard"
    tiny = resolve(data_config("procedural_moving_sprites/tiny", (32, 32)))
    assert tiny.video and tiny.num_frames == 6 and tiny.most_objects == 3
    standard = resolve(data_config("procedural_moving_sprites", (64, 64)))
    assert standard.video and standard.num_frames == 24
    image = resolve(data_config("procedural_multi_dsprites/simple", (32, 32)))
    assert not image.video and image.num_frames is None


def _sorted(batch: dict) -> dict:
    n = int(batch["padding_mask"].sum())
    order = np.lexsort(batch["video"][:n].reshape(n, -1).T)
    return {k: v[:n][order] for k, v in batch.items()}


@pytest.mark.parametrize("size", [(32, 32), (16, 16)])  # native, resized frame by frame
def test_tfds_builder_and_memory_source_agree(tfds_dir, size):
    cfg = data_config("procedural_moving_sprites/tiny", size)
    cfg.num_train, cfg.num_eval, cfg.data_dir = 3, 3, tfds_dir
    ours = next(memory.eval_iterator(cfg, global_batch_size=4))
    theirs = next(pipeline.eval_iterator(cfg, global_batch_size=4))
    assert ours.keys() == theirs.keys() == {"video", "ids", "boxes", "centers", "padding_mask"}
    assert ours["video"].shape == (4, 6, *size, 3) and ours["ids"].shape == (4, 6, *size)
    ours, theirs = _sorted(ours), _sorted(theirs)
    assert len(ours["video"]) == len(theirs["video"]) == 3
    for key in ("video", "ids", "boxes", "centers"):
        assert ours[key].dtype == theirs[key].dtype and ours[key].shape == theirs[key].shape
        np.testing.assert_allclose(ours[key], theirs[key], atol=1e-6)
    assert -1.0 <= ours["video"].min() and ours["video"].max() <= 1.0


def test_memory_training_batches_are_videos(caplog):
    cfg = data_config("procedural_moving_sprites/tiny", (32, 32))
    cfg.num_train = 4
    with caplog.at_level("INFO"):
        batch = next(memory.train_iterator(cfg, global_batch_size=2, seed=0))
    assert "procedural_moving_sprites/tiny train: 4 videos, in memory" in caplog.text
    assert batch["video"].shape == (2, 6, 32, 32, 3) and batch["ids"].shape == (2, 6, 32, 32)
    assert batch["boxes"].shape == (2, 6, 3, 4) and batch["centers"].shape == (2, 6, 3, 2)


def test_image_model_refuses_video_data_in_one_line():
    config = tiny_train_config("/unused")
    config.data.name = "procedural_moving_sprites/tiny"
    with pytest.raises(ConfigError, match="is a video dataset .* is an image model") as err:
        validate_config(config)
    assert "\n" not in str(err.value)


def _window_start(row: dict, full: dict, length: int) -> int:
    """The start of the window of ``full``'s videos that a training row holds, after checking that
    every key holds that same window of the same video."""
    frames = full["video"].shape[1]
    found = [(v, s) for v in range(len(full["video"])) for s in range(frames - length + 1)
             if np.array_equal(row["video"], full["video"][v, s:s + length])]
    assert len(found) == 1
    v, s = found[0]
    for key in ("ids", "boxes", "centers"):
        np.testing.assert_array_equal(row[key], full[key][v, s:s + length])
    return s


@pytest.mark.parametrize("source", ["memory", "tfds"])
def test_training_windows_share_one_start_across_keys(tfds_dir, source):
    cfg = data_config("procedural_moving_sprites/tiny", (32, 32))
    cfg.num_train, cfg.num_eval, cfg.data_dir, cfg.train_frames = 3, 3, tfds_dir, 3
    reader = memory if source == "memory" else pipeline
    full = memory.split_arrays(cfg, "train")  # the whole training videos (both sources agree)
    stream = reader.train_iterator(cfg, global_batch_size=3, seed=1)
    batches = [next(stream) for _ in range(4)]
    starts = set()
    for batch in batches:
        assert batch["video"].shape == (3, 3, 32, 32, 3) and batch["ids"].shape == (3, 3, 32, 32)
        assert batch["boxes"].shape == (3, 3, 3, 4) and batch["centers"].shape == (3, 3, 3, 2)
        for r in range(3):
            starts.add(_window_start({k: v[r] for k, v in batch.items()}, full, 3))
    assert len(starts) > 1  # random starts
    resumed = next(reader.train_iterator(cfg, global_batch_size=3, seed=1, start_step=2))
    for key, value in batches[2].items():
        np.testing.assert_array_equal(resumed[key], value)
    whole = next(reader.eval_iterator(cfg, global_batch_size=3))  # evaluation: whole videos
    assert whole["video"].shape == (3, 6, 32, 32, 3) and whole["boxes"].shape == (3, 6, 3, 4)
