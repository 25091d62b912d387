"""What the configs in ``configs/`` build on: the data section, the paper's training setups, a loader.

A config file imports these plainly (``from slot_jax.config_base import base_config, data_config``)
and adjusts the result; :func:`load_config` reads a config file with command-line style overrides.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import ml_collections
from ml_collections.config_dict import placeholder

from slot_jax.models.presets import set_prediction_model_config


def data_config(name: str, image_size: tuple[int, int]) -> ml_collections.ConfigDict:
    """The ``config.data`` section.

    Fields: ``name`` (see :mod:`slot_jax.data.registry`), ``image_size`` (after crop/resize),
    ``data_dir`` (TFDS data dir; default ``~/tensorflow_datasets``), ``manual_dir`` (downloaded
    files of the DeepMind datasets), ``num_train``/``num_eval`` (procedural sizes; default: the
    builder's), ``max_objects`` (keep images with at most this many objects, e.g. 6 for CLEVR6),
    ``shuffle_buffer``, ``cache`` (keep preprocessed examples in memory), ``eval_examples``
    (evaluate on at most this many; default all), ``crop`` (apply the dataset's crop, e.g.
    CLEVR's; set prediction does not crop), ``targets`` (``"set_prediction"`` adds the property
    targets, padded to ``max_set_size`` objects).
    """
    cfg = ml_collections.ConfigDict()
    cfg.name = name
    cfg.image_size = image_size
    cfg.data_dir = placeholder(str)
    cfg.manual_dir = placeholder(str)
    cfg.num_train = placeholder(int)
    cfg.num_eval = placeholder(int)
    cfg.max_objects = placeholder(int)
    cfg.shuffle_buffer = 10_000
    cfg.cache = True
    cfg.eval_examples = placeholder(int)
    cfg.crop = True
    cfg.targets = placeholder(str)
    cfg.max_set_size = 10
    return cfg


def base_config(
    model: ml_collections.ConfigDict, data: ml_collections.ConfigDict
) -> ml_collections.ConfigDict:
    """The paper's object-discovery training setup around a model and data section."""
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.model = model
    config.data = data
    config.dtype = "float32"  # or "bfloat16" compute (params and loss stay float32)
    config.parallelism = "mesh"  # or "pmap"
    config.batch_size = 64
    config.num_train_steps = 500_000
    config.learning_rate = 4e-4
    config.schedule = "paper"  # or "warmup_cosine" (SAVi/ISA: decays to 0 at num_train_steps)
    config.warmup_steps = 10_000
    config.decay_steps = 100_000
    config.decay_rate = 0.5
    config.grad_clip_norm = 0.0  # 0 disables (paper); SAVi/ISA use 0.05
    config.on_nonfinite = "stop"  # or "skip"
    config.log_every = 100
    config.image_log_every = 5_000
    config.checkpoint_every = 5_000
    config.keep_checkpoints = 3
    config.eval_every = 25_000
    config.eval_batch_size = 64
    return config


def set_prediction_config(dataset: str) -> ml_collections.ConfigDict:
    """The paper's CLEVR set prediction on ``dataset`` (``clevr`` or ``procedural_clevr``).

    K = 10 slots, encoder strides 1-2-2-1, no crop, targets padded to 10 objects, batch 512,
    150k steps, warm-up 1k steps, decay every 50k steps, evaluation every 10k steps.
    """
    data = data_config(dataset, (128, 128))
    data.crop = False
    data.targets = "set_prediction"
    data.max_set_size = 10
    config = base_config(set_prediction_model_config(num_slots=10), data)
    config.batch_size = 512
    config.num_train_steps = 150_000
    config.warmup_steps = 1_000
    config.decay_steps = 50_000
    config.eval_every = 10_000
    return config


def load_config(path: str, overrides: Sequence[str] = ()) -> ml_collections.ConfigDict:
    """``get_config()`` of the config file at ``path``, with ``--config.<key>=<value>`` overrides
    parsed exactly as ``python -m slot_jax.main`` parses them (ml_collections ``config_flags``)."""
    from absl import flags
    from ml_collections import config_flags

    if not os.path.isfile(path):
        raise FileNotFoundError(f"No config file {path!r}; pass the path of a file in configs/.")
    argv = ["slot_jax", f"--config={path}", *overrides]
    values = flags.FlagValues()  # sys_argv: the overrides are found there, not in sys.argv
    config_flags.DEFINE_config_file("config", None, "Config file.", flag_values=values, sys_argv=argv)
    values(argv)
    return values.config
