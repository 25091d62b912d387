"""MOVi read from a tiny copy written in its TFDS format: SAVi's preprocessing (scaling, ids, dense
boxes from the sparse tracks, training windows, whole videos for evaluation) and the one-line error
for a missing copy.

The fixture is a ``movi_a/16x16:1.0.0`` dataset with Kubric's MOVi feature structure (``video``,
``segmentations``, ``instances`` with ``bboxes``/``bbox_frames``, ``metadata``, flows, depth, ...),
written by a builder defined here and read back from its files, as a copy of
``gs://kubric-public/tfds`` is. Video ``v`` has the background grey ``BACKGROUND[v]``; object ``i``
is the rectangle of its box, id ``i + 1``, in the frames listed for it.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from slot_jax.config_base import data_config
from slot_jax.data import get_spec, movi, pipeline, resolve
from slot_jax.data.check import check_data, check_memory
from slot_jax.lib.checks import ConfigError

T, H, W = 5, 16, 16
BACKGROUND = (10, 60, 110, 160, 210)
SPLITS = {"train": (0, 1, 2), "validation": (3, 4)}


def _tracks(v: int) -> list[tuple[list[int], list[list[float]]]]:
    """Video ``v``'s objects: (frames, boxes [y0, x0, y1, x1]) each; the first object is visible
    throughout, the second leaves after frame 2, video 1 has a third that enters at frame 3."""
    tracks = [
        (list(range(T)), [[0.0, f / 16, 0.5, (f + 4) / 16] for f in range(T)]),
        ([0, 1, 2], [[0.5, 0.5, 0.75 + v / 16, 1.0] for _ in range(3)]),
    ]
    if v == 1:
        tracks.append(([3, 4], [[0.75, 0.0, 1.0, 0.25]] * 2))
    return tracks


def _example(v: int) -> dict:
    video = np.full((T, H, W, 3), BACKGROUND[v], np.uint8)
    seg = np.zeros((T, H, W, 1), np.uint8)
    instances = []
    for i, (frames, boxes) in enumerate(_tracks(v)):
        for f, (y0, x0, y1, x1) in zip(frames, boxes, strict=True):
            rows, cols = slice(round(y0 * H), round(y1 * H)), slice(round(x0 * W), round(x1 * W))
            seg[f, rows, cols] = i + 1
            video[f, rows, cols] = (40 * i + 30, 200 - 50 * i, 90)
        instances.append({
            "mass": 1.0, "friction": 0.5, "restitution": 0.5,
            "positions": np.zeros((T, 3), np.float32),
            "image_positions": np.full((T, 2), 0.5, np.float32),
            "bboxes": [tfds.features.BBox(*b) for b in boxes],
            "bbox_frames": np.array(frames, np.int32),
            "visibility": np.array([100 * (f in frames) for f in range(T)], np.uint16),
            "color": np.ones(3, np.float32), "shape_label": "cube",
        })
    flow = np.zeros((T, H, W, 2), np.uint16)
    return {
        "metadata": {
            "video_name": str(v), "width": W, "height": H, "num_frames": T,
            "num_instances": len(instances), "depth_range": [0.0, 1.0],
            "forward_flow_range": [-1.0, 1.0], "backward_flow_range": [-1.0, 1.0],
        },
        "instances": instances,
        "video": video, "segmentations": list(seg), "depth": list(np.zeros((T, H, W, 1), np.uint16)),
        "forward_flow": list(flow), "backward_flow": list(flow),
    }


class MoviA(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Writes the fixture in MOVi's format (Kubric's ``challenges/movi/movi_a.py`` features)."""

    VERSION = tfds.core.Version("1.0.0")
    BUILDER_CONFIGS = [tfds.core.BuilderConfig(name="16x16")]

    def _info(self) -> tfds.core.DatasetInfo:
        sequence = tfds.features.Sequence
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            "metadata": {
                "video_name": tfds.features.Text(), "width": np.int32, "height": np.int32,
                "num_frames": np.int32, "num_instances": np.uint16,
                **{k: tfds.features.Tensor(shape=(2,), dtype=np.float32)
                   for k in ("depth_range", "forward_flow_range", "backward_flow_range")},
            },
            "instances": sequence({
                "mass": np.float32, "friction": np.float32, "restitution": np.float32,
                "positions": tfds.features.Tensor(shape=(T, 3), dtype=np.float32),
                "image_positions": tfds.features.Tensor(shape=(T, 2), dtype=np.float32),
                "bboxes": sequence(tfds.features.BBoxFeature()),
                "bbox_frames": sequence(tfds.features.Tensor(shape=(), dtype=np.int32)),
                "visibility": tfds.features.Tensor(shape=(T,), dtype=np.uint16),
                "color": tfds.features.Tensor(shape=(3,), dtype=np.float32),
                "shape_label": tfds.features.ClassLabel(names=["cube", "cylinder", "sphere"]),
            }),
            "video": tfds.features.Video(shape=(T, H, W, 3)),
            "segmentations": sequence(
                tfds.features.Image(shape=(H, W, 1), dtype=np.uint8), length=T),
            "depth": sequence(tfds.features.Image(shape=(H, W, 1), dtype=np.uint16), length=T),
            **{k: sequence(tfds.features.Tensor(shape=(H, W, 2), dtype=np.uint16), length=T)
               for k in ("forward_flow", "backward_flow")},
        }))

    def _split_generators(self, dl_manager):
        return {split: self._generate_examples(videos) for split, videos in SPLITS.items()}

    def _generate_examples(self, videos):
        for v in videos:
            yield v, _example(v)


@pytest.fixture(scope="module")
def movi_dir(tmp_path_factory) -> str:
    data_dir = str(tmp_path_factory.mktemp("movi"))
    MoviA(config="16x16", data_dir=data_dir).download_and_prepare()
    return data_dir


def _config(data_dir: str, size=(H, W), **fields):
    cfg = data_config("movi_a/16x16:1.0.0", size)
    cfg.data_dir = data_dir
    cfg.update(fields)
    return cfg


def _dense(v: int) -> np.ndarray:
    """Video ``v``'s boxes as SAVi's ``sparse_to_dense_annotation`` makes them: ``[T, 10, 4]``."""
    dense = np.zeros((T, 10, 4), np.float32)
    for i, (frames, boxes) in enumerate(_tracks(v)):
        dense[frames, i] = boxes
    return dense


def _source(batch: dict, row: int) -> int:
    """Which fixture video a batch row comes from (its background grey, at a pixel no object covers)."""
    column = batch["video"].shape[3] * 3 // 8  # x = 6/16 of the width, on the last row
    grey = (batch["video"][row, 0, -1, column, 0] + 1.0) / 2.0 * 255.0
    return int(np.argmin(np.abs(np.array(BACKGROUND) - grey)))


def test_registered_as_video_with_train_and_validation():
    for name, most in (("movi_a/128x128", 10), ("movi_c/256x256", 10), ("movi_e/128x128", 23)):
        dataset = resolve(data_config(name, (64, 64)))
        assert dataset.video and dataset.num_frames == 24 and dataset.most_objects == most
        assert (dataset.train_split, dataset.eval_split) == ("train", "validation")
    memory = data_config("movi_a/128x128", (64, 64))
    memory.source = "memory"
    with pytest.raises(ConfigError, match="source='memory' makes procedural datasets only"):
        check_memory(resolve(memory))


def test_evaluation_reads_whole_videos_scaled_with_ids_and_dense_boxes(movi_dir):
    batch = next(pipeline.eval_iterator(_config(movi_dir), global_batch_size=4))
    assert batch.keys() == {"video", "ids", "boxes", "centers", "padding_mask"}
    assert batch["video"].shape == (4, T, H, W, 3) and batch["video"].dtype == np.float32
    assert batch["ids"].shape == (4, T, H, W) and batch["ids"].dtype == np.int32
    assert batch["boxes"].shape == (4, T, 10, 4) and batch["centers"].shape == (4, T, 10, 2)
    assert batch["padding_mask"].tolist() == [True, True, False, False]
    assert sorted(_source(batch, r) for r in range(2)) == list(SPLITS["validation"])
    for row in range(2):
        v = _source(batch, row)
        raw = _example(v)
        np.testing.assert_allclose(
            batch["video"][row], raw["video"] / 255.0 * 2.0 - 1.0, atol=1e-6)
        np.testing.assert_array_equal(batch["ids"][row], np.stack(raw["segmentations"])[..., 0])
        np.testing.assert_allclose(batch["boxes"][row], _dense(v), atol=1e-6)
        boxes = _dense(v)
        np.testing.assert_allclose(
            batch["centers"][row], (boxes[..., :2] + boxes[..., 2:]) / 2, atol=1e-6)
    assert not batch["boxes"][0, 3:, 1].any()  # the second object has left: zeros


def test_resized_frames_and_nearest_neighbour_ids(movi_dir):
    batch = next(pipeline.eval_iterator(_config(movi_dir, size=(8, 8)), global_batch_size=2))
    assert batch["video"].shape == (2, T, 8, 8, 3) and batch["ids"].shape == (2, T, 8, 8)
    assert -1.0 <= batch["video"].min() and batch["video"].max() <= 1.0
    for row in range(2):
        v = _source(batch, row)
        full = np.stack(_example(v)["segmentations"])[..., 0]
        # nearest neighbour (half-pixel centres: source pixel 2i + 1), never a mix of ids
        np.testing.assert_array_equal(batch["ids"][row], full[:, 1::2, 1::2])
        np.testing.assert_allclose(batch["boxes"][row], _dense(v), atol=1e-6)  # relative boxes


def test_training_windows_agree_across_keys_and_are_deterministic(movi_dir):
    cfg = _config(movi_dir, train_frames=3)
    stream = pipeline.train_iterator(cfg, global_batch_size=3, seed=0)
    batches = [next(stream) for _ in range(4)]
    starts = set()
    for batch in batches:
        assert batch["video"].shape == (3, 3, H, W, 3) and batch["ids"].shape == (3, 3, H, W)
        assert batch["boxes"].shape == (3, 3, 10, 4) and batch["centers"].shape == (3, 3, 10, 2)
        for row in range(3):
            v = _source(batch, row)
            assert v in SPLITS["train"]
            raw = _example(v)
            video = raw["video"] / 255.0 * 2.0 - 1.0
            start = [s for s in range(T - 2) if np.allclose(batch["video"][row], video[s:s + 3])]
            assert len(start) == 1  # the frames differ: the window is found
            s = start[0]
            starts.add(s)
            seg = np.stack(raw["segmentations"])[s:s + 3, ..., 0]
            np.testing.assert_array_equal(batch["ids"][row], seg)
            np.testing.assert_allclose(batch["boxes"][row], _dense(v)[s:s + 3], atol=1e-6)
    assert len(starts) > 1  # random starts
    resumed = next(pipeline.train_iterator(cfg, global_batch_size=3, seed=0, start_step=2))
    for key in batches[2]:
        np.testing.assert_array_equal(resumed[key], batches[2][key])


def test_dense_boxes_keep_the_first_objects_and_drop_the_rest():
    bboxes = tf.ragged.constant([[[0.1, 0.1, 0.2, 0.2]], [[0.3, 0.3, 0.4, 0.4]] * 2,
                                 [[0.5, 0.5, 0.6, 0.6]]], ragged_rank=1, inner_shape=(4,))
    frames = tf.ragged.constant([[2], [0, 3], [1]])
    dense = movi.dense_boxes(bboxes, frames, tf.constant(4), max_instances=2).numpy()
    assert dense.shape == (4, 2, 4)
    expected = np.zeros((4, 2, 4), np.float32)
    expected[2, 0], expected[[0, 3], 1] = [0.1, 0.1, 0.2, 0.2], [0.3, 0.3, 0.4, 0.4]
    np.testing.assert_allclose(dense, expected, atol=1e-6)


def test_a_missing_copy_is_a_one_line_error_naming_data_dir_and_source(tmp_path):
    cfg = _config(str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError) as err:
        next(pipeline.eval_iterator(cfg, global_batch_size=2))
    message = str(err.value)
    assert "\n" not in message and str(tmp_path / "empty") in message
    assert "gs://kubric-public/tfds/movi_a/16x16" in message


def test_train_frames_longer_than_the_videos_is_refused():
    cfg = data_config("movi_a/128x128", (64, 64))
    cfg.train_frames = 30
    with pytest.raises(ConfigError, match="train_frames=30 exceeds the 24 frames") as err:
        check_data(cfg)
    assert "\n" not in str(err.value)
    image = data_config("procedural_multi_dsprites/simple", (32, 32))
    image.train_frames = 3
    with pytest.raises(ConfigError, match="is for video datasets"):
        check_data(image)


def test_only_the_features_used_are_decoded(movi_dir):
    spec = get_spec("movi_a")
    builder = tfds.builder("movi_a/16x16", data_dir=movi_dir)
    ds = builder.as_dataset(split="validation", decoders=tfds.decode.PartialDecoding(spec.decode))
    example = ds.element_spec
    assert set(example) == {"video", "segmentations", "instances"}  # no flows, depth, metadata
    assert set(example["instances"]) == {"bboxes", "bbox_frames"}
