"""The official Keras model's variables as the Flax parameters of slot_jax's model.

Layer by layer (Keras names as :mod:`slot_jax.tf_checkpoint.reader` gives them):

* ``Conv2D`` and ``Dense``: kernel and bias as they are (both ``[..., in, out]``).
* ``Conv2DTranspose`` (every layer of the official decoder): Keras keeps the kernel of the
  convolution whose input gradient it computes, ``[kh, kw, out, in]``; the same map as a correlation
  over the dilated input (``nn.ConvTranspose``, our sub-pixel form, and ``nn.Conv`` at stride 1)
  has that kernel flipped spatially with in and out swapped, ``[kh, kw, in, out]``.
* ``LayerNormalization``: gamma -> scale, beta -> bias (Keras' epsilon 1e-3 is ours too).
* ``GRUCell(reset_after=True)``: kernel ``[in, 3u]`` and recurrent kernel ``[u, 3u]`` hold the gates
  z, r, h in that order -> Flax's ``iz, ir, in`` and ``hz, hr, hn``. The bias is ``[2, 3u]``, input
  and recurrent rows: z and r only ever see their sum, which is Flax's ``iz``/``ir`` bias; the
  candidate keeps both, input -> ``in``, recurrent -> ``hn`` (it is multiplied by the reset gate).
* ``slots_mu`` and ``slots_log_sigma`` -> ``slot_init``'s ``mu`` and ``log_sigma``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from slot_jax.models import build_model

# (Flax parameter path, the Keras variables it is made of, how)
Rule = tuple[tuple[str, ...], tuple[str, ...], Callable[..., np.ndarray]]


class ConversionError(ValueError):
    """The checkpoint does not fit the config's model; the message lists what differs."""


def _same(x: np.ndarray) -> np.ndarray:
    return x


def conv_transpose_kernel(kernel: np.ndarray) -> np.ndarray:
    """A Keras ``Conv2DTranspose`` kernel ``[kh, kw, out, in]`` -> the ``[kh, kw, in, out]`` kernel of
    the same layer as a correlation (``nn.ConvTranspose(transpose_kernel=False)``)."""
    return np.ascontiguousarray(kernel[::-1, ::-1].transpose(0, 1, 3, 2))


def _layer(tf: str, flax: tuple[str, ...], kernel: Callable = _same, bias: bool = True) -> list[Rule]:
    rules = [((*flax, "kernel"), (f"{tf}/kernel",), kernel)]
    return rules + ([((*flax, "bias"), (f"{tf}/bias",), _same)] if bias else [])


def _norm(tf: str, flax: tuple[str, ...]) -> list[Rule]:
    return [((*flax, "scale"), (f"{tf}/gamma",), _same), ((*flax, "bias"), (f"{tf}/beta",), _same)]


def _gate(i: int) -> Callable[[np.ndarray], np.ndarray]:
    """Gate ``i`` (z, r, h) of a ``[..., 3u]`` GRU kernel."""
    return lambda kernel: np.split(kernel, 3, axis=-1)[i]


def _gru(tf: str, flax: tuple[str, ...]) -> list[Rule]:
    kernel, recurrent, bias = f"{tf}/kernel", f"{tf}/recurrent_kernel", f"{tf}/bias"
    rules = [((*flax, f"i{g}", "kernel"), (kernel,), _gate(i)) for i, g in enumerate("zrn")]
    rules += [((*flax, f"h{g}", "kernel"), (recurrent,), _gate(i)) for i, g in enumerate("zrn")]
    return rules + [
        ((*flax, "iz", "bias"), (bias,), lambda b: _gate(0)(b[0]) + _gate(0)(b[1])),
        ((*flax, "ir", "bias"), (bias,), lambda b: _gate(1)(b[0]) + _gate(1)(b[1])),
        ((*flax, "in", "bias"), (bias,), lambda b: _gate(2)(b[0])),
        ((*flax, "hn", "bias"), (bias,), lambda b: _gate(2)(b[1])),
    ]


def check_supported(model_cfg: ml_collections.ConfigDict) -> None:
    """Raises :class:`ConversionError` unless ``model_cfg`` is one of the official models: the
    autoencoder with a transposed-convolution decoder, or set prediction; Gaussian slots, one
    head, standard Slot Attention."""
    sa = model_cfg.slot_attention
    problems = []
    if model_cfg.architecture not in ("autoencoder", "set_prediction"):
        problems.append(f"config.model.architecture={model_cfg.architecture!r} (official: "
                        "'autoencoder' or 'set_prediction')")
    if sa.get("kind", "standard") != "standard":
        problems.append(f"config.model.slot_attention.kind={sa.kind!r} (official: 'standard')")
    if model_cfg.slot_init != "gaussian":
        problems.append(f"config.model.slot_init={model_cfg.slot_init!r} (official: 'gaussian')")
    if sa.num_heads != 1:
        problems.append(f"config.model.slot_attention.num_heads={sa.num_heads} (official: 1)")
    if model_cfg.architecture == "autoencoder" and math.prod(model_cfg.decoder.strides) == 1:
        problems.append(
            f"config.model.decoder.strides={tuple(model_cfg.decoder.strides)}: the official "
            "decoder upsamples with Conv2DTranspose (CLEVR: strides (2, 2, 2, 2, 1))")
    if problems:
        raise ConversionError(
            "The official models do not have " + "; ".join(problems) + ". Use configs/clevr.py "
            "(object discovery) or configs/clevr_set_prediction.py (set prediction)."
        )


def rules(model_cfg: ml_collections.ConfigDict) -> list[Rule]:
    """Every Flax parameter of ``model_cfg``'s model and the Keras variables it comes from."""
    check_supported(model_cfg)
    enc, sa = model_cfg.encoder, "slot_attention"
    out = [r for i in range(len(enc.features))
           for r in _layer(f"encoder_cnn/{i}", ("encoder", f"conv_{i}"))]
    out += _layer("encoder_pos/dense", ("encoder", "pos_embed", "dense"))
    out += _norm("layer_norm", ("encoder", "norm"))
    out += [r for i in range(len(enc.mlp_features))
            for r in _layer(f"mlp/{i}", ("encoder", "mlp", f"dense_{i}"))]
    for name in ("norm_inputs", "norm_slots", "norm_mlp"):
        out += _norm(f"{sa}/{name}", (sa, name))
    for name in "qkv":
        out += _layer(f"{sa}/project_{name}", (sa, name), bias=False)
    out += _gru(f"{sa}/gru", (sa, "gru"))
    out += [r for i in range(2) for r in _layer(f"{sa}/mlp/{i}", (sa, "mlp", f"dense_{i}"))]
    out += [(("slot_init", "mu"), (f"{sa}/slots_mu",), _same),
            (("slot_init", "log_sigma"), (f"{sa}/slots_log_sigma",), _same)]
    if model_cfg.architecture == "set_prediction":
        return out + [r for i in range(len(model_cfg.head.features))
                      for r in _layer(f"mlp_classifier/{i}", ("head", f"dense_{i}"))]
    out += _layer("decoder_pos/dense", ("decoder", "pos_embed", "dense"))
    layers = [f"conv_{i}" for i in range(len(model_cfg.decoder.features))] + ["output"]
    for i, name in enumerate(layers):
        out += _layer(f"decoder_cnn/{i}", ("decoder", name), conv_transpose_kernel)
    return out


def _model_shapes(model_cfg: ml_collections.ConfigDict) -> dict[tuple[str, ...], tuple[int, ...]]:
    """``path -> shape`` of every parameter of ``model_cfg``'s model (no compute)."""
    model = build_model(model_cfg)
    image = jnp.zeros((1, *model_cfg.image_size, model_cfg.num_channels), jnp.float32)
    key = jax.random.key(0)
    params = jax.eval_shape(lambda: model.init({"params": key, "slots": key}, image))["params"]
    flat = jax.tree_util.tree_flatten_with_path(params)[0]
    return {tuple(k.key for k in path): tuple(leaf.shape) for path, leaf in flat}


def _listing(names) -> str:
    return ", ".join(sorted(names))


def flax_params(variables: Mapping[str, np.ndarray], model_cfg: ml_collections.ConfigDict) -> dict:
    """The Flax ``params`` of ``model_cfg``'s model from the Keras ``variables``
    (:attr:`slot_jax.tf_checkpoint.TFCheckpoint.variables`).

    Raises :class:`ConversionError` listing every Keras variable that maps to nothing, every one
    the model needs and the checkpoint lacks, and every parameter whose shape differs from the
    model's.
    """
    table = rules(model_cfg)
    needed = {name for _, names, _ in table for name in names}
    unused, missing = set(variables) - needed, needed - set(variables)
    if unused or missing:
        parts = [f"its variables {_listing(unused)} map to nothing in it"] if unused else []
        parts += [f"it lacks {_listing(missing)}"] if missing else []
        raise ConversionError(
            f"The checkpoint does not fit config.model ({model_cfg.architecture}): "
            + "; ".join(parts) + ". Convert an object-discovery checkpoint with configs/clevr.py "
            "and a set-prediction one with configs/clevr_set_prediction.py."
        )
    flat = {path: np.asarray(fn(*(variables[n] for n in names)), np.float32)
            for path, names, fn in table}
    expected = _model_shapes(model_cfg)
    wrong = []
    for path in sorted(set(flat) | set(expected)):
        got, want = (flat[path].shape if path in flat else None), expected.get(path)
        if got != want:
            wrong.append(f"{'/'.join(path)} is {got} in the checkpoint but {want} in the model")
    if wrong:
        raise ConversionError(
            "The checkpoint's shapes differ from config.model's: " + "; ".join(wrong)
            + ". Set the model's widths and kernel sizes to the checkpoint's."
        )
    params: dict = {}
    for path, value in flat.items():
        node = params
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = jnp.asarray(value)
    return params
