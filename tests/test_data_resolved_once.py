"""One training run consults the data registry once and validates once: ``config.data`` becomes one
:class:`slot_jax.data.Dataset` that the iterators, the evaluation and the final report receive."""

import sys
from types import SimpleNamespace

import pytest
from conftest import tiny_train_config

import slot_jax.data.memory  # noqa: F401  (its references are counted too)
from slot_jax.data import Dataset, registry, resolve
from slot_jax.train import train, validate

# The in-memory source, 2 steps, one evaluation at the end.
SHORT = dict(num_train_steps=2, checkpoint_every=2, eval_every=2, eval_batch_size=8)
SMALL_DATA = dict(source="memory", num_train=16, num_eval=8)


def _count_calls(monkeypatch, fn) -> list:
    """Replaces ``fn`` by a counting wrapper wherever a loaded slot_jax module holds it (however it
    was imported); returns the list its calls are appended to."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return fn(*args, **kwargs)

    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("slot_jax"):
            for name, value in list(vars(module).items()):
                if value is fn:
                    monkeypatch.setattr(module, name, counted)
    return calls


def _counters(monkeypatch) -> dict[str, list]:
    return {fn.__name__: _count_calls(monkeypatch, fn)
            for fn in (registry.get_spec, validate.validate_config, validate.validate_paths)}


def test_the_command_line_run(tmp_path, monkeypatch, capsys):
    """``python -m slot_jax.main``'s run once its flags are read (absl's flags are process-wide, so
    their values are given here): checks, training, evaluation, final report."""
    from slot_jax.commands import main

    config = tiny_train_config(str(tmp_path / "tfds"), **SHORT)
    config.data.update(SMALL_DATA)
    flag_values = dict(config=config, workdir=str(tmp_path / "run"), mode="train",
                       checkpoint_step=None)
    calls = _counters(monkeypatch)
    main.train_or_evaluate({k: SimpleNamespace(value=v) for k, v in flag_values.items()}, ["prog"])
    assert "Held-out results at step 2 (8 images):" in capsys.readouterr().out
    assert {name: len(c) for name, c in calls.items()} == {
        "get_spec": 1, "validate_config": 1, "validate_paths": 1}


def test_train(tmp_path, monkeypatch):
    """:func:`slot_jax.train.train` alone: ``build_setup``, the steps and the evaluation."""
    config = tiny_train_config(str(tmp_path / "tfds"), **SHORT)
    config.data.update(SMALL_DATA)
    calls = _counters(monkeypatch)
    assert int(train(config, str(tmp_path / "run")).step) == 2
    assert (tmp_path / "run" / "eval" / "metrics_2.json").is_file()
    assert {name: len(c) for name, c in calls.items()} == {
        "get_spec": 1, "validate_config": 1, "validate_paths": 1}


def test_resolve():
    config = tiny_train_config("/unused")
    dataset = resolve(config.data)
    assert isinstance(dataset, Dataset) and resolve(dataset) is dataset
    assert (dataset.builder, dataset.variant) == ("procedural_multi_dsprites", "simple")
    assert dataset.image_size == (16, 16) and dataset.most_objects == 3 and dataset.has_ids
    again = resolve(config.data)  # equal configs: equal, equally hashed (the memory cache's key)
    assert again == dataset and hash(again) == hash(dataset)
    config.data.num_train = 7
    assert resolve(config.data) != dataset
    with pytest.raises(AttributeError, match="immutable"):
        dataset.config.num_train = 7
