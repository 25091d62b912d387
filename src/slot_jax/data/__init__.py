"""Datasets: offline procedural sets, TFDS CLEVR, the DeepMind multi-object datasets and MOVi.

Where TensorFlow is installed, importing this package imports it first, without its start-up notices
(:mod:`slot_jax.lib.quiet`; C++ log lines below ``TF_CPP_MIN_LOG_LEVEL``, 2 unless set, are held
back), and registers the TFDS builders, so ``tfds.load("procedural_multi_dsprites")`` and
``tfds.load("multi_dsprites/colored_on_grayscale", ...)`` work. Without TensorFlow, the procedural
datasets come from the in-memory source (:mod:`slot_jax.data.iterators`).

``resolve(config.data)`` gives the :class:`Dataset` (one registry lookup) that the iterators,
``prepare_builder`` and the evaluation take in place of ``config.data``.
"""

from slot_jax.data.dataset import Dataset, resolve
from slot_jax.data.iterators import eval_iterator, train_iterator
from slot_jax.data.registry import DATASETS, get_spec
from slot_jax.lib.quiet import import_quietly, installed

__all__ = ["DATASETS", "Dataset", "eval_iterator", "get_spec", "resolve", "train_iterator"]

if installed("tensorflow"):
    import_quietly("tensorflow")

    from slot_jax.data import multi_object  # noqa: F401  (registers the TFDS builders)
    from slot_jax.data.procedural import builders  # noqa: F401
    from slot_jax.data.sources import prepare_builder  # noqa: F401

    __all__ += ["prepare_builder"]
