"""Datasets: offline procedural sets, TFDS CLEVR and the DeepMind multi-object datasets.

Importing this package registers the TFDS builders, so ``tfds.load("procedural_multi_dsprites")`` and
``tfds.load("multi_dsprites/colored_on_grayscale", ...)`` work.
"""

import importlib

for _module in ("multi_object", "procedural"):  # registers the TFDS builders
    try:
        importlib.import_module(f"slot_jax.data.{_module}")
    except ModuleNotFoundError as _err:  # TEMP until all builders land
        if _err.name != f"slot_jax.data.{_module}":
            raise

from slot_jax.data.pipeline import eval_iterator, train_iterator
from slot_jax.data.registry import DATASETS, get_spec
from slot_jax.data.sources import prepare

__all__ = ["DATASETS", "eval_iterator", "get_spec", "prepare", "train_iterator"]
