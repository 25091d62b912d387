"""Datasets: offline procedural sets, TFDS CLEVR and the DeepMind multi-object datasets.

Importing this package registers the TFDS builders, so ``tfds.load("procedural_multi_dsprites")`` and
``tfds.load("multi_dsprites/colored_on_grayscale", ...)`` work.
"""

from slot_jax.data import multi_object, procedural  # noqa: F401  (register TFDS builders)
from slot_jax.data.pipeline import eval_iterator, train_iterator
from slot_jax.data.registry import DATASETS, get_spec
from slot_jax.data.sources import prepare_builder

__all__ = ["DATASETS", "eval_iterator", "get_spec", "prepare_builder", "train_iterator"]
