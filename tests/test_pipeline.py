"""The input pipeline: formats, determinism, exact resumption, exactly-once evaluation, errors."""

import numpy as np
import pytest

from slot_jax.commands.prepare import command_config
from slot_jax.config_base import data_config
from slot_jax.data.pipeline import eval_iterator, train_iterator
from slot_jax.data.sources import prepare_builder


def _cfg(tfds_dir, name="procedural_multi_dsprites/simple", size=(32, 32), **kw):
    cfg = data_config(name, size)
    cfg.data_dir = tfds_dir
    cfg.num_train, cfg.num_eval = 40, 10
    cfg.update(kw)
    return cfg


def _take(it, n):
    return [next(it) for _ in range(n)]


def test_batches_and_determinism(tfds_dir):
    cfg = _cfg(tfds_dir)
    a = _take(train_iterator(cfg, global_batch_size=8, seed=1), 3)
    b = _take(train_iterator(cfg, global_batch_size=8, seed=1), 3)
    c = _take(train_iterator(cfg, global_batch_size=8, seed=2), 3)
    assert a[0]["image"].shape == (8, 32, 32, 3) and a[0]["image"].dtype == np.float32
    assert a[0]["ids"].shape == (8, 32, 32) and a[0]["ids"].dtype == np.int32
    assert -1.0 <= a[0]["image"].min() and a[0]["image"].max() <= 1.0
    assert 2 <= len(np.unique(a[0]["ids"][0])) <= 4  # background + 2-3 sprites
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x["image"], y["image"])
    assert not np.array_equal(a[0]["image"], c[0]["image"])


def test_resume_continues_the_same_stream(tfds_dir):
    cfg = _cfg(tfds_dir)  # 40 examples, batch 8: 5 batches per epoch
    full = _take(train_iterator(cfg, global_batch_size=8, seed=3), 9)
    resumed = _take(train_iterator(cfg, global_batch_size=8, seed=3, start_step=6), 3)
    for x, y in zip(full[6:], resumed, strict=True):
        np.testing.assert_array_equal(x["image"], y["image"])
        np.testing.assert_array_equal(x["ids"], y["ids"])
    # Epochs are reshuffled: epoch 2 is not a copy of epoch 1.
    assert not np.array_equal(full[0]["image"], full[5]["image"])


def test_resume_with_an_object_filter(tfds_dir):
    cfg = _cfg(tfds_dir, max_objects=2)  # keeps the 2-sprite scenes only
    full = _take(train_iterator(cfg, global_batch_size=4, seed=0), 7)
    resumed = _take(train_iterator(cfg, global_batch_size=4, seed=0, start_step=5), 2)
    for x, y in zip(full[5:], resumed, strict=True):
        np.testing.assert_array_equal(x["image"], y["image"])
    assert max(len(np.unique(ids)) for b in full for ids in b["ids"]) <= 3


def test_eval_counts_each_example_once(tfds_dir):
    cfg = _cfg(tfds_dir)
    batches = list(eval_iterator(cfg, global_batch_size=4))
    assert [len(b["image"]) for b in batches] == [4, 4, 4]  # 10 examples, padded to 12
    mask = np.concatenate([b["padding_mask"] for b in batches])
    assert mask.tolist() == [True] * 10 + [False] * 2
    images = np.concatenate([b["image"] for b in batches])[mask]
    assert len({im.tobytes() for im in images}) == 10
    limited = list(eval_iterator(cfg, global_batch_size=4, num_examples=5))
    assert sum(int(b["padding_mask"].sum()) for b in limited) == 5


def test_resize_and_crop(tfds_dir):
    cfg = _cfg(tfds_dir, size=(16, 16))
    batch = next(train_iterator(cfg, global_batch_size=2, seed=0))
    assert batch["image"].shape == (2, 16, 16, 3) and batch["ids"].shape == (2, 16, 16)
    clevr = _cfg(tfds_dir, name="procedural_clevr", size=(24, 24), num_train=2, num_eval=1)
    batch = next(train_iterator(clevr, global_batch_size=2, seed=0))
    assert batch["image"].shape == (2, 24, 24, 3)
    assert batch["ids"].max() >= 1  # objects survive the centre crop


def test_errors(tfds_dir):
    with pytest.raises(ValueError, match="Unknown dataset.*Known datasets"):
        next(train_iterator(_cfg(tfds_dir, name="sprites"), global_batch_size=2, seed=0))
    cfg = _cfg(tfds_dir)
    from slot_jax.data import registry

    spec = registry.DATASETS["procedural_multi_dsprites"]
    registry.DATASETS["procedural_multi_dsprites"] = registry.dataclasses.replace(
        spec, eval_split="validation"
    )
    try:
        with pytest.raises(ValueError, match="has no split 'validation'; available"):
            next(eval_iterator(cfg, global_batch_size=2))
    finally:
        registry.DATASETS["procedural_multi_dsprites"] = spec
    with pytest.raises(FileNotFoundError, match="gsutil cp"):
        prepare_builder(command_config("tetrominoes", data_dir=tfds_dir, manual_dir=tfds_dir))


def test_prepare_command_sizes(tfds_dir):
    cfg = command_config("procedural_tetrominoes", num_examples=6, num_eval=2, data_dir=tfds_dir)
    builder = prepare_builder(cfg, download=True)
    assert {k: v.num_examples for k, v in builder.info.splits.items()} == {"train": 6, "test": 2}
    assert isinstance(builder.info.features["image"].shape, tuple)
    with pytest.raises(ValueError, match="only applies to procedural"):
        command_config("tetrominoes", num_examples=5, data_dir=tfds_dir)


def test_two_processes_preparing_at_once(tmp_path, monkeypatch):
    """Another process finishes generating the same dataset while this one is still at it (two
    trainers started together): TFDS's final rename fails here, and prepare_builder returns the
    dataset the other process wrote instead of a FileExistsError traceback."""
    from slot_jax.data.sources import make_builder

    cfg = command_config("procedural_tetrominoes", num_examples=4, num_eval=2,
                         data_dir=str(tmp_path))
    cls = type(make_builder(cfg))
    generate = cls._download_and_prepare
    raced = []

    def racing(self, *args, **kwargs):
        if not raced:  # the other process, finishing first
            raced.append(True)
            make_builder(cfg).download_and_prepare()
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(cls, "_download_and_prepare", racing)
    builder = prepare_builder(cfg)
    assert raced and builder.is_prepared()
    assert {k: v.num_examples for k, v in builder.info.splits.items()} == {"train": 4, "test": 2}
    assert not list(tmp_path.glob("*/*/incomplete*"))  # no temporary folder left behind
