"""The official TF2 Slot Attention checkpoints (``gs://gresearch/slot-attention/...``) in slot_jax.

* :func:`load_tf_params`: a checkpoint's Flax ``params`` for a config's model;
* :func:`read_checkpoint` (:mod:`.reader`): its variables by their place in the Keras model, for
  both Keras 2 (the official code's) and Keras 3 checkpoints, and its global step;
* :func:`flax_params` (:mod:`.mapping`): the layer-by-layer mapping to our parameters.

``python -m slot_jax.convert`` writes a converted checkpoint as an orbax checkpoint of the trainer
(:func:`slot_jax.train.convert_tf_checkpoint`).
"""

from __future__ import annotations

import ml_collections

from slot_jax.tf_checkpoint.mapping import ConversionError, conv_transpose_kernel, flax_params
from slot_jax.tf_checkpoint.reader import TFCheckpoint, TFCheckpointError, read_checkpoint


def load_tf_params(path: str, model_cfg: ml_collections.ConfigDict) -> dict:
    """The Flax ``params`` of ``model_cfg``'s model from the official TF2 checkpoint at ``path``
    (a prefix such as ``DIR/ckpt-500``, or its directory).

    Use them as ``model.apply({"params": params}, image, slot_noise)`` with
    ``model = slot_jax.build_model(model_cfg)``. Raises FileNotFoundError without a checkpoint at
    ``path``, :class:`TFCheckpointError` for one of other code and :class:`ConversionError` for
    one that does not fit the model (each message lists what differs).
    """
    return flax_params(read_checkpoint(path).variables, model_cfg)


__all__ = [
    "ConversionError",
    "TFCheckpoint",
    "TFCheckpointError",
    "conv_transpose_kernel",
    "flax_params",
    "load_tf_params",
    "read_checkpoint",
]
