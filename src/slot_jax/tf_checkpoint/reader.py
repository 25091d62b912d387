"""Reads a checkpoint of the official TF2 Slot Attention code: each variable of its Keras model
by its place in the model, and the global step.

The official ``train.py`` saves ``tf.train.Checkpoint(network=model, optimizer=..., global_step=...)``
where ``model`` is a functional ``keras.Model`` around one ``SlotAttentionAutoEncoder`` or
``SlotAttentionClassifier`` layer. A checkpoint stores each variable once, under one key, and that
key depends on the Keras version: Keras 2 (the official code's) writes
``network/layer_with_weights-0/encoder_cnn/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE``,
Keras 3 may file the same variable under the optimizer (``optimizer/_trainable_variables/0/...``).
The checkpoint's object graph still holds every path, so this module walks it from ``network``
and names each variable by its path there, the same for both versions:

* attribute names are kept (``slot_attention/gru/recurrent_kernel``, ``encoder_pos/dense/bias``);
* a member of a ``Sequential`` (or of the functional wrapper) is named by its position among the
  members with weights: Keras 2's ``layer_with_weights-i`` and Keras 3's ``_functional/_operations/i``
  (whose index counts the input layer too) both become ``0, 1, ...``; Keras 2's aliases
  ``layer-i`` are skipped;
* the wrapper's index is dropped, and Keras 3's ``_kernel`` is ``kernel``.

So ``encoder_cnn/0/kernel``, ``mlp/1/bias``, ``slot_attention/mlp/0/kernel``,
``slot_attention/slots_mu``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import defaultdict

import numpy as np

from slot_jax.lib.quiet import import_quietly

NETWORK = "network"
GLOBAL_STEP = "global_step"
_WEIGHTED = re.compile(r"layer_with_weights-(\d+)")  # Keras 2: a member with weights
_ALIAS = re.compile(r"layer-\d+")  # Keras 2: every member again, by layer index
_MAX_DEPTH = 24


class TFCheckpointError(ValueError):
    """The path holds no checkpoint of the official code; the message says what it holds."""


@dataclasses.dataclass(frozen=True)
class TFCheckpoint:
    """What :func:`read_checkpoint` reads.

    Attributes:
      path: the checkpoint's prefix (``DIR/ckpt-500``).
      variables: ``name -> float32 array`` of every variable of the network (names as in the module
        docstring).
      global_step: the ``global_step`` the official code saves, or None without one.
    """

    path: str
    variables: dict[str, np.ndarray]
    global_step: int | None


def checkpoint_prefix(path: str) -> str:
    """The prefix of the checkpoint at ``path``: a prefix itself (``DIR/ckpt-500``, beside
    ``ckpt-500.index``) or a directory whose ``checkpoint`` file names its latest one."""
    import_quietly("tensorflow")
    import tensorflow as tf

    if os.path.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest is None:
            raise FileNotFoundError(
                f"{path} holds no TensorFlow checkpoint (no 'checkpoint' file naming one); pass "
                "the prefix of one, such as DIR/ckpt-500 beside DIR/ckpt-500.index."
            )
        return latest
    if not os.path.exists(path + ".index"):
        raise FileNotFoundError(
            f"No TensorFlow checkpoint at {path} (there is no {path}.index); pass a prefix such as "
            "DIR/ckpt-500 or the directory holding it and its 'checkpoint' file."
        )
    return path


def _object_graph(reader):
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    try:
        graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    except Exception as err:  # a name-based (TF1 Saver) checkpoint has no object graph
        raise TFCheckpointError(
            "the checkpoint has no object graph (a TF1 name-based checkpoint?); the official code "
            "writes tf.train.Checkpoint(network=..., optimizer=..., global_step=...)."
        ) from err
    return graph


def _child(graph, node_id: int, name: str) -> int | None:
    return next((c.node_id for c in graph.nodes[node_id].children if c.local_name == name), None)


def _value_key(graph, node_id: int) -> str | None:
    """The checkpoint key of the variable at ``node_id``, or None if it is no variable."""
    for attribute in graph.nodes[node_id].attributes:
        if attribute.name == "VARIABLE_VALUE":
            return attribute.checkpoint_key
    return None


def _variable_paths(graph, start: int) -> list[tuple[list[str], str]]:
    """``(path, checkpoint key)`` of every variable below ``start``, Keras 2's aliases skipped."""
    found, stack = [], [(start, [], frozenset([start]))]
    while stack:
        node_id, path, on_path = stack.pop()
        key = _value_key(graph, node_id)
        if key is not None:
            found.append((path, key))
        if len(path) >= _MAX_DEPTH:
            continue
        for child in graph.nodes[node_id].children:
            if child.node_id in on_path or _ALIAS.fullmatch(child.local_name):
                continue
            stack.append((child.node_id, [*path, child.local_name], on_path | {child.node_id}))
    return found


def _parse(path: list[str]) -> list[str | int]:
    """Tokens with each member index as an int: ``layer_with_weights-i`` and ``_operations/i``
    (``_functional`` dropped)."""
    out: list[str | int] = []
    i = 0
    while i < len(path):
        token = path[i]
        weighted = _WEIGHTED.fullmatch(token)
        if weighted:
            out.append(int(weighted.group(1)))
        elif token == "_operations" and i + 1 < len(path) and path[i + 1].isdigit():
            out.append(int(path[i + 1]))
            i += 1
        elif token != "_functional":
            out.append(token)
        i += 1
    return out


def canonical_names(paths: list[list[str]]) -> list[str]:
    """The names of the module docstring for object-graph ``paths`` (below ``network``): each
    member index becomes its rank among the indices seen in its container."""
    parsed = [_parse(p) for p in paths]
    seen: dict[tuple, set[int]] = defaultdict(set)
    for tokens in parsed:
        for i, token in enumerate(tokens):
            if isinstance(token, int):
                seen[tuple(tokens[:i])].add(token)
    names = []
    for tokens in parsed:
        out = [str(sorted(seen[tuple(tokens[:i])]).index(t)) if isinstance(t, int) else t
               for i, t in enumerate(tokens)]
        if out and isinstance(tokens[0], int):  # the functional wrapper around the model's layer
            out = out[1:]
        if out and out[-1] == "_kernel":  # Keras 3 (kept apart for LoRA)
            out[-1] = "kernel"
        names.append("/".join(out))
    return names


def read_checkpoint(path: str) -> TFCheckpoint:
    """Reads the network's variables and the global step of the checkpoint at ``path`` (a prefix
    or a directory; see :func:`checkpoint_prefix`).

    Raises FileNotFoundError without a checkpoint there and :class:`TFCheckpointError` for one that
    has no ``network`` object.
    """
    prefix = checkpoint_prefix(path)
    import tensorflow as tf

    reader = tf.train.load_checkpoint(prefix)
    graph = _object_graph(reader)
    network = _child(graph, 0, NETWORK)
    if network is None:
        names = sorted(c.local_name for c in graph.nodes[0].children)
        raise TFCheckpointError(
            f"{prefix} has no '{NETWORK}' object (it holds {names}); the official code saves "
            "tf.train.Checkpoint(network=model, optimizer=..., global_step=...)."
        )
    found = _variable_paths(graph, network)
    names = canonical_names([p for p, _ in found])
    variables: dict[str, np.ndarray] = {}
    for name, (_, key) in zip(names, found, strict=True):
        if name in variables:
            raise TFCheckpointError(f"{prefix}: two variables of the network are both named {name}.")
        variables[name] = np.asarray(reader.get_tensor(key), np.float32)
    step_node = _child(graph, 0, GLOBAL_STEP)
    step_key = _value_key(graph, step_node) if step_node is not None else None
    step = int(reader.get_tensor(step_key)) if step_key else None
    return TFCheckpoint(path=prefix, variables=variables, global_step=step)
