"""The in-memory source (no TensorFlow) against the tf.data pipeline: the same examples, the same
preprocessing, a deterministic and resumable training stream, and its one-line errors."""

import itertools

import numpy as np
import pytest
from conftest import tiny_train_config

from slot_jax.config_base import data_config
from slot_jax.data import iterators, memory, pipeline
from slot_jax.train import ConfigError, validate_config


def _sorted(batch: dict, n: int) -> dict:
    """The first ``n`` examples, in a fixed order (TFDS stores a split in its own order)."""
    order = np.lexsort(batch["image"][:n].reshape(n, -1).T)
    return {k: v[:n][order] for k, v in batch.items()}


@pytest.mark.parametrize("name, size, crop", [
    ("procedural_multi_dsprites/simple", (16, 16), False),  # resize only
    ("procedural_clevr/clevr6", (32, 32), True),  # crop, resize, max_objects
])
def test_same_examples_as_the_tf_pipeline(tfds_dir, name, size, crop):
    cfg = data_config(name, size)
    cfg.num_train, cfg.num_eval, cfg.data_dir = 3, 3, tfds_dir
    if crop:
        cfg.max_objects = 5
    ours = next(memory.eval_iterator(cfg, global_batch_size=4))
    theirs = next(pipeline.eval_iterator(cfg, global_batch_size=4))
    assert ours.keys() == theirs.keys()
    n = int(theirs["padding_mask"].sum())
    assert n == int(ours["padding_mask"].sum()) and n >= 1
    ours, theirs = _sorted(ours, n), _sorted(theirs, n)
    for key in ("image", "ids"):
        assert ours[key].dtype == theirs[key].dtype and ours[key].shape == theirs[key].shape
        np.testing.assert_allclose(ours[key], theirs[key], atol=1e-6)


def test_training_stream_is_a_function_of_seed_and_step():
    cfg = data_config("procedural_multi_dsprites/simple", (16, 16))
    cfg.num_train = 10
    stream = lambda start, seed=0: memory.train_iterator(  # noqa: E731
        cfg, global_batch_size=4, seed=seed, start_step=start)
    first = list(itertools.islice(stream(0), 5))
    resumed = next(stream(3))
    np.testing.assert_array_equal(first[3]["image"], resumed["image"])
    epoch = np.concatenate([b["image"] for b in first])[:10].reshape(10, -1)
    assert len(np.unique(epoch, axis=0)) == 10  # each example once per epoch
    assert not np.array_equal(next(stream(0, seed=1))["image"], first[0]["image"])


def test_errors_name_the_fix():
    with pytest.raises(ValueError, match="procedural datasets only.*source='tfds'"):
        memory.scene_options(data_config("clevr", (128, 128)))
    with pytest.raises(ValueError, match="Unknown config.data.source"):
        iterators.resolve_source(_with_source("bogus"))
    config = tiny_train_config("/unused")
    config.data.source = "memory"
    validate_config(config)
    config.data.name = "clevr"
    with pytest.raises(ConfigError, match="procedural datasets only"):
        validate_config(config)


def _with_source(source: str):
    cfg = data_config("procedural_tetrominoes", (35, 35))
    cfg.source = source
    return cfg


def test_auto_is_tfds_where_tensorflow_is_installed():
    assert iterators.resolve_source(_with_source("auto")) == "tfds"
    assert iterators.source_name(_with_source("memory")) == "memory"
