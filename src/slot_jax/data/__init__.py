"""Datasets: offline procedural sets, TFDS CLEVR and the DeepMind multi-object datasets.

Importing this package registers the TFDS builders, so ``tfds.load("procedural_multi_dsprites")`` and
``tfds.load("multi_dsprites/colored_on_grayscale", ...)`` work.
It imports TensorFlow first, without its start-up notices (:mod:`slot_jax.lib.quiet`; C++ log lines
below ``TF_CPP_MIN_LOG_LEVEL``, 2 unless set, are held back).
"""

from slot_jax.lib.quiet import import_quietly

import_quietly("tensorflow")

from slot_jax.data import multi_object, procedural  # noqa: E402, F401  (register TFDS builders)
from slot_jax.data.pipeline import eval_iterator, train_iterator  # noqa: E402
from slot_jax.data.registry import DATASETS, get_spec  # noqa: E402
from slot_jax.data.sources import prepare_builder  # noqa: E402

__all__ = ["DATASETS", "eval_iterator", "get_spec", "prepare_builder", "train_iterator"]
