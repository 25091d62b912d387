"""The multi-object TFDS builders read fixture files written in the published on-disk format.

Fixtures: GZIP TFRecords of tf.train.Example, byte features one byte string per element, masks
uint8 {0, 255} with entity 0 the background, Multi-dSprites masks laid out [H, W, E, 1]. Each record
paints random rectangles into an id map; record ``r`` carries ``r`` in ``image[0, 0, 0]``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from slot_jax.data import multi_object

NUM_RECORDS = 5
NUM_TEST = 2
_BYTE = [bytes([i]) for i in range(256)]


@dataclasses.dataclass(frozen=True)
class Case:
    builder: str
    config: str
    file_name: str
    size: tuple[int, int]
    channels: int
    entities: int
    entity_last: bool = False
    floats: tuple[tuple[str, tuple[int, ...]], ...] = ()
    byte_names: tuple[str, ...] = ()
    in_subfolder: str | None = None  # fixture placed in <manual_dir>/<subfolder>/


def _dsprites_floats(e: int, c: int):
    return (("x", (e,)), ("y", (e,)), ("shape", (e,)), ("color", (e, c)), ("visibility", (e,)),
            ("orientation", (e,)), ("scale", (e,)))


CASES = {
    "multi_dsprites/colored_on_grayscale": Case(
        "multi_dsprites", "colored_on_grayscale", "multi_dsprites_colored_on_grayscale.tfrecords",
        (64, 64), 3, 6, entity_last=True, floats=_dsprites_floats(6, 3),
    ),
    "multi_dsprites/binarized": Case(
        "multi_dsprites", "binarized", "multi_dsprites_binarized.tfrecords",
        (64, 64), 1, 4, entity_last=True, floats=_dsprites_floats(4, 1),
    ),
    "clevr_with_masks/train": Case(
        "clevr_with_masks", "train", "clevr_with_masks_train.tfrecords", (240, 320), 3, 11,
        floats=(("x", (11,)), ("y", (11,)), ("z", (11,)), ("pixel_coords", (11, 3)),
                ("rotation", (11,)), ("visibility", (11,))),
        byte_names=("size", "material", "shape", "color"),
    ),
    "tetrominoes/train": Case(
        "tetrominoes", "train", "tetrominoes_train.tfrecords", (35, 35), 3, 4,
        floats=(("x", (4,)), ("y", (4,)), ("shape", (4,)), ("color", (4, 3)), ("visibility", (4,))),
        in_subfolder="tetrominoes",
    ),
    "objects_room/train": Case(
        "objects_room", "train", "objects_room_train.tfrecords", (64, 64), 3, 7,
    ),
}


def _ids_map(rng: np.random.Generator, case: Case) -> np.ndarray:
    """uint8 [H, W]: entities 1..E-1 painted as random rectangles over background 0."""
    h, w = case.size
    ids = np.zeros((h, w), np.uint8)
    for k in range(1, case.entities):
        y0, x0 = rng.integers(0, h - 6), rng.integers(0, w - 6)
        ids[y0 : y0 + rng.integers(3, 12), x0 : x0 + rng.integers(3, 12)] = k
    return ids


def _bytes(a: np.ndarray) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[_BYTE[v] for v in a.ravel().tolist()]))


def _floats(a: np.ndarray) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=a.ravel().tolist()))


def _record(rng: np.random.Generator, case: Case, index: int) -> dict[str, np.ndarray]:
    """One record's arrays, masks entity-first [E, H, W, 1]."""
    h, w = case.size
    ids = _ids_map(rng, case)
    image = rng.integers(0, 256, (h, w, case.channels), dtype=np.uint8)
    image[0, 0, 0] = index
    masks = (ids[None] == np.arange(case.entities)[:, None, None]).astype(np.uint8) * 255
    record = {"image": image, "mask": masks[..., None], "ids": ids}
    for name, shape in case.floats:
        record[name] = (rng.normal(size=shape) + 100 * index).astype(np.float32)
    for name in case.byte_names:
        record[name] = rng.integers(0, 8, case.entities, dtype=np.uint8)
    return record


def _serialize(record: dict[str, np.ndarray], case: Case) -> bytes:
    mask = np.transpose(record["mask"], (1, 2, 0, 3)) if case.entity_last else record["mask"]
    feature = {"image": _bytes(record["image"]), "mask": _bytes(mask)}
    feature.update({name: _floats(record[name]) for name, _ in case.floats})
    feature.update({name: _bytes(record[name]) for name in case.byte_names})
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    """(manual_dir, data_dir, {case key: list of records})."""
    root = tmp_path_factory.mktemp("multi_object")
    manual = root / "manual"
    records = {}
    for seed, (key, case) in enumerate(CASES.items()):
        rng = np.random.default_rng(seed)
        records[key] = [_record(rng, case, i) for i in range(NUM_RECORDS)]
        folder = manual / case.in_subfolder if case.in_subfolder else manual
        folder.mkdir(parents=True, exist_ok=True)
        with tf.io.TFRecordWriter(str(folder / case.file_name), options="GZIP") as writer:
            for record in records[key]:
                writer.write(_serialize(record, case))
    return manual, root / "data", records


def _load(case: Case, manual, data_dir, num_test: int = NUM_TEST) -> dict[str, list[dict]]:
    config = multi_object.holdout_config(case.builder, case.config, num_test)
    splits = tfds.load(
        case.builder, split=["train", "test"], data_dir=str(data_dir),
        builder_kwargs={"config": config},
        download_and_prepare_kwargs={
            "download_config": tfds.download.DownloadConfig(manual_dir=str(manual))
        },
    )
    return {
        name: list(tfds.as_numpy(ds.map(multi_object.to_canonical)))
        for name, ds in zip(["train", "test"], splits, strict=True)
    }


@pytest.mark.parametrize("key", list(CASES))
def test_builder_reads_published_format(fixtures, key):
    manual, data_dir, all_records = fixtures
    case, records = CASES[key], all_records[key]
    loaded = _load(case, manual, data_dir)
    h, w = case.size

    # The held-out split is the first NUM_TEST records, train the rest.
    index = {split: sorted(int(ex["image"][0, 0, 0]) for ex in exs) for split, exs in loaded.items()}
    assert index == {"test": list(range(NUM_TEST)), "train": list(range(NUM_TEST, NUM_RECORDS))}

    for ex in loaded["train"] + loaded["test"]:
        record = records[int(ex["image"][0, 0, 0])]
        assert ex["image"].shape == (h, w, 3) and ex["image"].dtype == np.uint8
        expected_image = np.tile(record["image"], (1, 1, 3)) if case.channels == 1 else record["image"]
        np.testing.assert_array_equal(ex["image"], expected_image)
        assert ex["ids"].shape == (h, w) and ex["ids"].dtype == np.int32
        np.testing.assert_array_equal(ex["ids"], record["ids"])
        np.testing.assert_array_equal(ex["ids"], np.argmax(record["mask"][..., 0], axis=0))
        objects = ex["objects"]
        for name, shape in case.floats:
            assert objects[name].shape == shape
            np.testing.assert_allclose(objects[name], record[name])
        for name in case.byte_names:
            np.testing.assert_array_equal(objects[name], record[name])
        if not case.floats:  # Objects Room: visibility derived from the masks
            np.testing.assert_array_equal(objects["visibility"], record["mask"].any(axis=(1, 2, 3)))


def test_fixture_detects_a_missing_transpose(fixtures):
    """Reading Multi-dSprites masks as if entity-first scrambles the ids: the fixture can tell."""
    manual, _, all_records = fixtures
    case = CASES["multi_dsprites/colored_on_grayscale"]
    h, w = case.size
    raw = next(iter(tf.data.TFRecordDataset(str(manual / case.file_name), compression_type="GZIP")))
    wrong = tf.io.parse_single_example(
        raw, {"mask": tf.io.FixedLenFeature([case.entities, h, w, 1], tf.string)}
    )["mask"]
    wrong_ids = np.argmax(tf.io.decode_raw(wrong, tf.uint8).numpy()[..., 0, 0], axis=0)
    assert (wrong_ids != all_records["multi_dsprites/colored_on_grayscale"][0]["ids"]).mean() > 0.05


def test_default_configs():
    assert multi_object.DEFAULT_NUM_TEST == 320
    cls = tfds.builder_cls("multi_dsprites")
    names = ["colored_on_grayscale", "colored_on_colored", "binarized"]
    assert [c.name for c in cls.BUILDER_CONFIGS] == names
    assert [c.spec.num_entities for c in cls.BUILDER_CONFIGS] == [6, 5, 4]
    assert all(c.num_test == 320 for c in cls.BUILDER_CONFIGS)
    rooms = {c.name: c for c in tfds.builder_cls("objects_room").BUILDER_CONFIGS}
    assert {n: c.spec.num_entities for n, c in rooms.items()} == {
        "train": 7, "six_objects": 10, "empty_room": 4, "identical_color": 10,
    }
    assert rooms["empty_room"].spec.file_name == "objects_room_test_empty_room.tfrecords"
    assert rooms["empty_room"].num_test is None


@pytest.mark.parametrize("manual_exists", [False, True])
def test_missing_file_error_names_file_and_gsutil(tmp_path, manual_exists):
    manual = tmp_path / "manual"
    if manual_exists:
        manual.mkdir()
        (manual / "unrelated.txt").write_text("x")
    with pytest.raises(FileNotFoundError) as info:
        tfds.load(
            "tetrominoes", split="train", data_dir=str(tmp_path / "data"),
            download_and_prepare_kwargs={
                "download_config": tfds.download.DownloadConfig(manual_dir=str(manual))
            },
        )
    message = str(info.value)
    assert "tetrominoes_train.tfrecords" in message and str(manual) in message
    url = "gs://multi-object-datasets/tetrominoes/tetrominoes_train.tfrecords"
    assert f"gsutil cp {url} {manual}/" in message
