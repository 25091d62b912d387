"""TFDS CLEVR through the trainer's own input pipeline, on mocked ``clevr:3.1.0`` data.

``tfds.testing.mock_data`` replaces the reading (``as_dataset``), makes ``download_and_prepare`` a
no-op and points every builder at its ``data_dir``, but takes the split metadata from the files in
that folder. So the tests write clevr's real ``features.json``/``dataset_info.json`` there (with small
splits: ``train`` 512 + 12, ``validation`` 10, ``test`` 3), and the fake reader serves the examples
a split string selects, with the features of the real builder (320x480 uint8 images, 3-10 objects).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from slot_jax.config_base import data_config
from slot_jax.data import pipeline, resolve
from slot_jax.data.pipeline import eval_iterator, train_iterator
from slot_jax.data.preprocess import crop_resize_ids
from slot_jax.data.sources import prepare_builder

H, W = 320, 480
SPLITS = {"train": 512 + 12, "validation": 10, "test": 3}
TRAIN = range(512, SPLITS["train"])  # what train[512:] selects
VALIDATION = range(SPLITS["validation"])
PAPER_CROP = (29, 221, 64, 256)  # image[29:221, 64:256]


def _fake_example(split: str, i: int) -> dict:
    """Example ``i`` of ``split``: a noise image and 3-10 CLEVR-like objects."""
    rng = np.random.default_rng([list(SPLITS).index(split), i])
    n = int(rng.integers(3, 11))
    coords = np.stack([rng.uniform(-3, 3, n), rng.uniform(-3, 3, n), rng.choice([0.35, 0.7], n)], 1)
    pixels = np.stack([rng.uniform(0, W, n), rng.uniform(0, H, n), rng.uniform(5, 15, n)], 1)
    return {
        "image": rng.integers(0, 256, (H, W, 3), dtype=np.uint8),
        "file_name": f"CLEVR_{split}_{i:06d}.png",
        "objects": {
            "color": rng.integers(0, 8, n), "material": rng.integers(0, 2, n),
            "shape": rng.integers(0, 3, n), "size": rng.integers(0, 2, n),
            "rotation": rng.uniform(0, 360, n).astype(np.float32),
            "3d_coords": coords.astype(np.float32), "pixel_coords": pixels.astype(np.float32),
        },
        "question_answer": {"question": ["How many cubes are there?"], "answer": [str(n)]},
    }


class MockedClevr:
    """A folder with clevr's metadata, and ``mock()``: TFDS mocked to read fake clevr from it."""

    def __init__(self, data_dir: str):
        self.data_dir = data_dir
        self.requested: list[str] = []  # the split strings the builder was asked for
        with self.mock():
            builder = tfds.builder("clevr:3.1.0")
            builder.info.set_splits(tfds.core.SplitDict([
                tfds.core.SplitInfo(name=name, shard_lengths=[n], num_bytes=0)
                for name, n in SPLITS.items()
            ]))
            tf.io.gfile.makedirs(builder.data_dir)
            builder.info.write_to_directory(builder.data_dir)

    def _as_dataset(self, builder, split):
        self.requested.append(str(split))
        indices = [
            (part.splitname, i)
            for part in tfds.core.ReadInstruction.from_spec(split).to_absolute(builder.info.splits)
            for i in range(part.from_ or 0, SPLITS[part.splitname] if part.to is None else part.to)
        ]
        signature = tf.nest.map_structure(
            lambda t: tf.TensorSpec(t.shape, t.dtype), builder.info.features.get_tensor_info()
        )
        return tf.data.Dataset.from_generator(
            lambda: (_fake_example(*index) for index in indices), output_signature=signature
        )

    @contextlib.contextmanager
    def mock(self):
        def as_dataset(builder, split, **kwargs):  # replaces FileReaderBuilder._as_dataset
            return self._as_dataset(builder, split)

        policy = tfds.testing.MockPolicy.USE_FILES  # the split metadata must come from data_dir
        with tfds.testing.mock_data(policy=policy, as_dataset_fn=as_dataset, data_dir=self.data_dir):
            yield self.requested


@pytest.fixture(scope="module")
def clevr(tmp_path_factory):
    return MockedClevr(str(tmp_path_factory.mktemp("clevr_tfds")))


def _cfg(clevr: MockedClevr, size=(64, 96), **kw):
    cfg = data_config("clevr", size)
    cfg.data_dir = clevr.data_dir
    cfg.update(kw)
    return cfg


def _bilinear_reference(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Half-pixel-centre bilinear resize without antialiasing (TF2 ``tf.image.resize``), numpy."""
    for axis, out in enumerate(size):
        n = x.shape[axis]
        src = np.clip((np.arange(out) + 0.5) * n / out - 0.5, 0, n - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        frac = (src - lo).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
        x = np.take(x, lo, axis) * (1 - frac) + np.take(x, hi, axis) * frac
    return x


def _reference(image: np.ndarray, crop, size) -> np.ndarray:
    """The paper's input in numpy: [-1, 1], crop ``(y0, y1, x0, x1)`` (None: none), resize, clip."""
    x = image.astype(np.float64) / 255.0 * 2.0 - 1.0
    if crop is not None:
        y0, y1, x0, x1 = crop
        x = x[y0:y1, x0:x1]
    return np.clip(_bilinear_reference(x, size), -1.0, 1.0)


def _references(split: str, indices, crop=PAPER_CROP, size=(64, 96)) -> dict[int, np.ndarray]:
    return {i: _reference(_fake_example(split, i)["image"], crop, size) for i in indices}


def _match(images: np.ndarray, references: dict[int, np.ndarray]) -> list[int]:
    """The reference index each image equals (to float32 rounding); fails if one equals none."""
    found = []
    for image in images:
        errors = {i: np.abs(image - ref).max() for i, ref in references.items()}
        best = min(errors, key=errors.get)
        assert errors[best] < 1e-5, f"no reference matches (closest: {best}, {errors[best]})"
        found.append(best)
    return found


def _num_objects(split: str, i: int) -> int:
    return len(_fake_example(split, i)["objects"]["size"])


def test_training_reads_train_512_with_the_paper_crop_and_resize(clevr):
    cfg = _cfg(clevr, (64, 96))  # non-square
    with clevr.mock() as requested:
        requested.clear()
        it = train_iterator(cfg, global_batch_size=4, seed=0)
        batches = [next(it) for _ in range(3)]  # 12 examples: one epoch
    assert requested == ["train[512:]"]
    assert set(batches[0]) == {"image"}  # CLEVR has no masks
    images = np.concatenate([b["image"] for b in batches])
    assert images.shape == (12, 64, 96, 3) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    seen = _match(images, _references("train", TRAIN))
    assert sorted(seen) == list(TRAIN) and seen != list(TRAIN)  # each once, shuffled
    # Sensitive to the crop: shifted by one pixel, the reference no longer matches.
    y0, y1, x0, x1 = PAPER_CROP
    for crop in [(y0 + 1, y1 + 1, x0, x1), (y0, y1, x0 + 1, x1 + 1)]:
        shifted = _reference(_fake_example("train", seen[0])["image"], crop, (64, 96))
        assert np.abs(images[0] - shifted).mean() > 0.05


def test_resume_counts_the_split_from_its_metadata(clevr):
    cfg = _cfg(clevr, (16, 24))
    with clevr.mock():
        count = pipeline._base_dataset(resolve(cfg), train=True)[1]
        assert count == len(TRAIN)  # train[512:], not train
        full = train_iterator(cfg, global_batch_size=4, seed=3)
        full = [next(full)["image"] for _ in range(5)]  # epochs of 3 batches
        resumed = next(train_iterator(cfg, global_batch_size=4, seed=3, start_step=4))["image"]
    np.testing.assert_array_equal(resumed, full[4])


def test_evaluation_reads_validation_once_in_order(clevr):
    cfg = _cfg(clevr, (128, 128))
    with clevr.mock() as requested:
        requested.clear()
        batches = list(eval_iterator(cfg, global_batch_size=4))
    assert requested == ["validation"]
    assert [b["image"].shape for b in batches] == [(4, 128, 128, 3)] * 3
    mask = np.concatenate([b["padding_mask"] for b in batches])
    assert mask.tolist() == [True] * 10 + [False] * 2
    images = np.concatenate([b["image"] for b in batches])
    assert np.all(images[~mask] == 0)
    references = _references("validation", VALIDATION, size=(128, 128))
    assert _match(images[mask], references) == list(VALIDATION)


def test_clevr6_keeps_the_images_with_at_most_six_objects(clevr):
    cfg = _cfg(clevr, (16, 24), max_objects=6)
    train6 = [i for i in TRAIN if _num_objects("train", i) <= 6]
    eval6 = [i for i in VALIDATION if _num_objects("validation", i) <= 6]
    assert 0 < len(train6) < len(TRAIN) and 0 < len(eval6) < len(VALIDATION)
    with clevr.mock():
        it = train_iterator(cfg, global_batch_size=1, seed=0)
        train = np.concatenate([next(it)["image"] for _ in train6])  # one epoch
        batches = list(eval_iterator(cfg, global_batch_size=4))
    assert sorted(_match(train, _references("train", TRAIN, size=(16, 24)))) == train6
    mask = np.concatenate([b["padding_mask"] for b in batches])
    images = np.concatenate([b["image"] for b in batches])[mask]
    assert _match(images, _references("validation", VALIDATION, size=(16, 24))) == eval6


def _target_rows(objects: dict, max_set_size: int) -> np.ndarray:
    """The 19-d rows: (3d_coords + 3) / 6, one-hot size, material, shape, colour, objectness 1."""
    n = len(objects["size"])
    depths = {"size": 2, "material": 2, "shape": 3, "color": 8}
    one_hots = [np.eye(k)[objects[name]] for name, k in depths.items()]
    rows = np.concatenate([(objects["3d_coords"] + 3) / 6, *one_hots, np.ones((n, 1))], axis=1)
    return np.pad(rows, [(0, max_set_size - n), (0, 0)])  # zero rows up to max_set_size


def test_set_prediction_targets_on_the_full_image(clevr):
    cfg = _cfg(clevr, (32, 32), targets="set_prediction", crop=False)
    with clevr.mock():
        batches = list(eval_iterator(cfg, global_batch_size=8))
    mask = np.concatenate([b["padding_mask"] for b in batches])
    targets = np.concatenate([b["targets"] for b in batches])
    images = np.concatenate([b["image"] for b in batches])
    assert mask.sum() == 10 and targets.shape == (16, 10, 19) and targets.dtype == np.float32
    assert np.all(targets[~mask] == 0)
    assert _match(images[mask], _references("validation", VALIDATION, None, (32, 32))) == list(
        VALIDATION
    )
    for i in VALIDATION:
        expected = _target_rows(_fake_example("validation", i)["objects"], 10)
        np.testing.assert_allclose(targets[i], expected, atol=1e-6)


def test_an_unprepared_clevr_names_the_prepare_command(tmp_path):
    cfg = data_config("clevr", (16, 16))
    cfg.data_dir = str(tmp_path)  # outside the mock: a real, empty data dir
    with pytest.raises(FileNotFoundError) as err:
        prepare_builder(cfg)
    message = str(err.value)
    assert "\n" not in message
    assert f"python -m slot_jax.data.prepare --dataset=clevr --data_dir={tmp_path}" in message


def test_crop_resize_ids_is_nearest():
    ids = np.zeros((240, 320), np.int32)
    ids[29:125, 64:160] = 3  # the top-left quarter of the crop
    out = crop_resize_ids(tf.constant(ids), PAPER_CROP, (64, 64)).numpy()
    assert out.dtype == np.int32 and out.shape == (64, 64)
    assert set(np.unique(out)) == {0, 3}
    assert np.all(out[:32, :32] == 3) and np.all(out[32:] == 0) and np.all(out[:, 32:] == 0)
