"""Training and evaluating SAVi on procedural videos: a few steps through the trainer, whole-video
metrics (chunked equals whole), track consistency on hand-made masks, the pairing refusals, and
the video configs."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO, load_repo_config, tiny_train_config
from PIL import Image

from slot_jax.config_base import load_config
from slot_jax.evaluation.baselines import batch_scores, box_ids
from slot_jax.evaluation.final_report import final_report
from slot_jax.evaluation.outputs import video_in_chunks
from slot_jax.evaluation.video_metrics import track_consistency
from slot_jax.evaluation.visualize import png_scale
from slot_jax.lib.checks import ConfigError
from slot_jax.models.presets import tiny_savi_model_config
from slot_jax.train import build_setup
from slot_jax.train.loop import train
from slot_jax.train.validate import validate_config


def tiny_video_config(data_dir: str, slot_init: str = "boxes", **overrides):
    """configs/procedural_video_savi.py shrunk: 16x16 frames, the tiny SAVi, 8 videos in memory."""
    config = load_repo_config("procedural_video_savi", data_dir)
    config.data.image_size = (16, 16)
    config.data.num_train, config.data.num_eval = 8, 4
    config.data.source = "memory"
    config.model = tiny_savi_model_config(num_slots=4, slot_init=slot_init, image_size=(16, 16))
    config.update(dict(batch_size=4, eval_batch_size=4, num_train_steps=3, warmup_steps=1,
                       log_every=1, checkpoint_every=2, image_log_every=0, eval_every=0))
    config.update(overrides)
    return config


def _image_tags(event_dir: str) -> dict[str, list[int]]:
    """The steps of each image summary in the TensorBoard event files of ``event_dir``."""
    import tensorflow as tf

    tags: dict[str, list[int]] = {}
    for name in sorted(os.listdir(event_dir)):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(event_dir, name)):
            for value in event.summary.value:
                if value.HasField("image"):
                    tags.setdefault(value.tag, []).append(event.step)
    return tags


def test_savi_trains_and_evaluates_whole_videos(tmp_path, capsys):
    config = tiny_video_config(str(tmp_path / "data"), image_log_every=2)
    workdir = str(tmp_path / "run")
    state = train(config, workdir, devices=jax.devices()[:1])
    assert int(state.step) == 3
    assert " videos/s | " in capsys.readouterr().err  # the progress line counts videos
    assert _image_tags(os.path.join(workdir, "train")) == {"frames": [2, 3]}  # training strips
    run = build_setup(config, devices=jax.devices()[:1])
    report = run.evaluator.report(state.params, jax.random.key(0), 3, workdir)
    with open(report["path"]) as f:
        metrics = json.load(f)["metrics"]
    for key in ("fg_ari", "ari", "mbo", "mse", "track_consistency", "slots_used"):
        assert key in metrics and np.isfinite(metrics[key]["mean"]), key
    assert metrics["fg_ari"]["num_images"] == 4
    assert 0.0 <= metrics["track_consistency"]["mean"] <= 1.0
    assert "track_consistency" in report["line"] and "(4 videos)" in report["line"]
    lines = final_report(config, workdir, 3)
    assert lines[0] == "Held-out results at step 3 (4 videos):"
    assert "first-frame boxes held still" in lines[1] and lines[1].startswith("  FG-ARI ")
    assert lines[3].startswith("  track consistency ")
    strip = np.asarray(Image.open(os.path.join(workdir, "eval", "frames_3.png")))
    scale = png_scale(16)  # rows: input, recon, 4 slots, segmentation; a column per frame
    assert strip.shape == (scale * (7 * 16 + 8 * 2), scale * (6 * 16 + 7 * 2), 3)


@pytest.mark.parametrize("mode", ["mesh", "pmap"])
def test_four_devices_train_and_evaluate_videos_as_one(tmp_path, mode):
    assert jax.device_count() == 4
    config = tiny_video_config(str(tmp_path / "data"), parallelism=mode)
    one = train(config, str(tmp_path / "one"), devices=jax.devices()[:1])
    four = train(config, str(tmp_path / "four"))
    # As in test_train: Adam can move a near-zero-gradient parameter by one lr step of rounding.
    for a, b in zip(jax.tree.leaves(one.params), jax.tree.leaves(four.params), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-3, atol=5e-4)
    params = jax.device_get(one.params)
    on_one, _ = build_setup(config, devices=jax.devices()[:1]).evaluator(params, jax.random.key(3))
    on_four, _ = build_setup(config).evaluator(params, jax.random.key(3))
    for key in ("fg_ari", "mbo", "track_consistency", "mse"):
        assert on_four[key]["mean"] == pytest.approx(on_one[key]["mean"], abs=1e-5), key


def test_chunked_evaluation_equals_whole(tmp_path):
    config = tiny_video_config(str(tmp_path))
    run = build_setup(config, devices=jax.devices()[:1])
    params = run.init_state().params
    batch = next(run.train_batches())
    whole = video_in_chunks(run.model, params, batch, jax.random.key(1), None, None)
    chunked = video_in_chunks(run.model, params, batch, jax.random.key(1), None, 4)  # 4 + 2
    for key in ("recon", "masks"):
        np.testing.assert_allclose(chunked[key], whole[key], atol=1e-5)
    config.eval_slice_size = 4
    chunked_metrics, _ = build_setup(config, devices=jax.devices()[:1]).evaluator(
        params, jax.random.key(2))
    whole_metrics, _ = run.evaluator(params, jax.random.key(2))
    for key in ("fg_ari", "mbo", "track_consistency"):
        assert chunked_metrics[key]["mean"] == pytest.approx(whole_metrics[key]["mean"], abs=1e-5)


def _two_objects(frames: int = 4) -> np.ndarray:
    """ids [1, T, 2, 4]: object 1 on the left, object 2 on the right, background in row 1."""
    ids = np.zeros((1, frames, 2, 4), np.int32)
    ids[:, :, 0, :2], ids[:, :, 0, 2:] = 1, 2
    return ids


def test_track_consistency_on_hand_made_masks():
    ids = _two_objects()
    assert float(track_consistency(jnp.asarray(ids), jnp.asarray(ids), 3)[0]) == 1.0
    swapped = ids.copy()
    swapped[:, 2:] = np.where(ids[:, 2:] == 1, 2, np.where(ids[:, 2:] == 2, 1, 0))
    assert float(track_consistency(jnp.asarray(ids), jnp.asarray(swapped), 3)[0]) == 0.5
    hidden = ids.copy()
    hidden[:, 1:] = np.where(ids[:, 1:] == 2, 0, ids[:, 1:])  # object 2 seen in frame 0 only
    pred = np.where(hidden == 2, 1, hidden)  # ... and then in object 1's slot
    assert float(track_consistency(jnp.asarray(hidden), jnp.asarray(pred), 3)[0]) == 0.5


def test_first_frame_boxes_baseline_paints_boxes_in_order():
    boxes = np.zeros((1, 3, 4), np.float32)
    boxes[0, 0] = [0.0, 0.0, 0.5, 0.75]  # rows 0-1, columns 0-2 of a 4x4 image
    boxes[0, 1] = [0.25, 0.5, 1.0, 1.0]  # rows 1-3, columns 2-3: over box 0 where they meet
    np.testing.assert_array_equal(
        box_ids(boxes, 4, 4)[0],
        [[1, 1, 1, 0], [1, 1, 2, 2], [0, 0, 2, 2], [0, 0, 2, 2]],  # the empty box paints nothing
    )
    ids = np.stack([box_ids(boxes, 4, 4)] * 2, axis=1)  # objects that stay put: the boxes are
    fg_ari, _ = batch_scores(ids, 4, np.stack([boxes] * 2, axis=1))["first_frame_boxes"]
    assert fg_ari[0] == pytest.approx(1.0)  # the truth
    moved = ids.copy()
    moved[:, 1] = np.roll(ids[:, 1], 1, axis=-1)  # the objects move in frame 1
    fg_ari, _ = batch_scores(moved, 4, np.stack([boxes] * 2, axis=1))["first_frame_boxes"]
    assert fg_ari[0] < 0.9


def test_savi_on_images_and_wrong_video_keys_are_refused_in_one_line():
    # (video data with an image model: tests/test_procedural_video.py)
    config = tiny_train_config("/unused")
    config.model = tiny_savi_model_config(image_size=tuple(config.data.image_size))
    with pytest.raises(ConfigError, match=r"architecture='savi' is a video model but .* images") as err:
        validate_config(config)
    assert "\n" not in str(err.value)
    config = tiny_video_config("/unused")
    config.model.num_slots = 5
    with pytest.raises(ConfigError, match=r"num_slots=5 .* set config.model.num_slots=4"):
        validate_config(config)
    config = tiny_video_config("/unused", eval_slice_size=0)
    with pytest.raises(ConfigError, match=r"config.eval_slice_size=0 must be an integer >= 1"):
        validate_config(config)


@pytest.mark.parametrize(
    "name", ["procedural_video_savi", "procedural_video_savi_unconditional", "movi_a_savi"]
)
def test_video_configs_load(name):
    config = load_config(str(REPO / "configs" / f"{name}.py"))
    assert config.model.architecture == "savi"
    if name != "movi_a_savi":
        validate_config(config)
    else:
        assert (config.batch_size, config.num_train_steps, config.warmup_steps) == (64, 100_000, 2_500)
        assert (config.learning_rate, config.grad_clip_norm) == (2e-4, 0.05)
        assert config.data.train_frames == 6 and config.model.image_size == (64, 64)
