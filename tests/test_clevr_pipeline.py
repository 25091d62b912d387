"""The paper's TFDS CLEVR preprocessing, on mocked ``clevr:3.1.0`` data (no files, no network)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from slot_jax.data import clevr

NUM_EXAMPLES = 16
H, W = 320, 480


def _num_objects(i: int) -> int:
    return 3 + i % 8  # 3..10, as in CLEVR


def _fake_example(i: int) -> dict:
    rng = np.random.default_rng(i)
    n = _num_objects(i)
    return {
        "image": rng.integers(0, 256, (H, W, 3), dtype=np.uint8),
        "objects": {
            "color": rng.integers(0, 8, n), "material": rng.integers(0, 2, n),
            "shape": rng.integers(0, 3, n), "size": rng.integers(0, 2, n),
            "rotation": rng.uniform(0, 360, n).astype(np.float32),
            "3d_coords": rng.uniform(-3, 3, (n, 3)).astype(np.float32),
            "pixel_coords": rng.uniform(0, 300, (n, 3)).astype(np.float32),
        },
    }


_SIGNATURE = {
    "image": tf.TensorSpec((H, W, 3), tf.uint8),
    "objects": {
        **{k: tf.TensorSpec((None,), tf.int64) for k in ("color", "material", "shape", "size")},
        "rotation": tf.TensorSpec((None,), tf.float32),
        "3d_coords": tf.TensorSpec((None, 3), tf.float32),
        "pixel_coords": tf.TensorSpec((None, 3), tf.float32),
    },
}


@pytest.fixture(scope="module")
def clevr_examples():
    """(examples of tfds.load("clevr:3.1.0", split=...), the split strings the builder was asked for)."""
    requested = []

    def as_dataset(self, split, *args, **kwargs):
        requested.append(str(split))
        return tf.data.Dataset.from_generator(
            lambda: (_fake_example(i) for i in range(NUM_EXAMPLES)), output_signature=_SIGNATURE
        )

    with tfds.testing.mock_data(num_examples=NUM_EXAMPLES, as_dataset_fn=as_dataset):
        train = tfds.load(clevr.TFDS_NAME, split=clevr.clevr_split(train=True))
        evaluation = tfds.load(clevr.TFDS_NAME, split=clevr.clevr_split(train=False))
    return train, evaluation, requested


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
    y0, y1, x0, x1 = crop
    x = image.astype(np.float64) / 255.0 * 2.0 - 1.0
    return np.clip(_bilinear_reference(x[y0:y1, x0:x1], size), -1.0, 1.0)


def test_splits():
    assert clevr.TRAIN_SKIP == 512
    assert clevr.clevr_split(train=True) == "train[512:]"
    assert clevr.clevr_split(train=False) == "validation"


def test_mocked_load_asks_for_paper_splits(clevr_examples):
    _, _, requested = clevr_examples
    assert requested == ["train[512:]", "validation"]


@pytest.mark.parametrize("image_size", [(128, 128), (64, 96)])
def test_preprocess_matches_numpy_crop_resize(clevr_examples, image_size):
    train, _, _ = clevr_examples
    raw = next(iter(tfds.as_numpy(train)))
    out = clevr.preprocess_clevr(tf.nest.map_structure(tf.constant, raw), image_size=image_size)
    image = out["image"].numpy()
    assert image.shape == (*image_size, 3) and image.dtype == np.float32
    assert image.min() >= -1.0 and image.max() <= 1.0
    np.testing.assert_allclose(image, _reference(raw["image"], clevr.CLEVR_CROP, image_size), atol=1e-5)
    # The comparison is sensitive to the crop: shifted by one pixel it no longer matches.
    shifted = _reference(raw["image"], (30, 222, 64, 256), image_size)
    assert np.abs(image - shifted).mean() > 0.05


def test_preprocess_pads_objects(clevr_examples):
    train, _, _ = clevr_examples
    ds = train.map(clevr.preprocess_clevr).batch(4)
    batch = next(iter(tfds.as_numpy(ds)))
    objects = batch["objects"]
    assert batch["image"].shape == (4, 128, 128, 3)
    assert objects["3d_coords"].shape == (4, clevr.MAX_NUM_OBJECTS, 3)
    assert objects["color"].shape == (4, clevr.MAX_NUM_OBJECTS)
    np.testing.assert_array_equal(objects["visibility"].sum(1), [_num_objects(i) for i in range(4)])
    np.testing.assert_allclose(objects["3d_coords"][0, :3], _fake_example(0)["objects"]["3d_coords"])
    assert np.all(objects["3d_coords"][0, 3:] == 0)


@pytest.mark.parametrize("preprocessed", [False, True])
def test_clevr6_filter_keeps_at_most_six_objects(clevr_examples, preprocessed):
    train, _, _ = clevr_examples
    ds = train.map(clevr.preprocess_clevr) if preprocessed else train
    ds = ds.filter(clevr.clevr_max_objects_filter(clevr.CLEVR6_MAX_OBJECTS))
    kept = [int(clevr.count_objects(ex)) for ex in ds]
    assert kept == [n for n in map(_num_objects, range(NUM_EXAMPLES)) if n <= 6]
    everything = train.filter(clevr.clevr_max_objects_filter(None))
    assert sum(1 for _ in everything) == NUM_EXAMPLES


def test_crop_resize_ids_is_nearest():
    ids = np.zeros((240, 320), np.int32)
    ids[29:125, 64:160] = 3  # the top-left quarter of the crop
    out = clevr.crop_resize_ids(tf.constant(ids), clevr.CLEVR_CROP, (64, 64)).numpy()
    assert out.dtype == np.int32 and out.shape == (64, 64)
    assert set(np.unique(out)) == {0, 3}
    assert np.all(out[:32, :32] == 3) and np.all(out[32:] == 0) and np.all(out[:, 32:] == 0)
