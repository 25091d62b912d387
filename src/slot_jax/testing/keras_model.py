"""Keras models of the official Slot Attention architecture, built from a slot_jax model config.

Written from the official TF2 code's description (Locatello et al., 2020): a ``Sequential`` Conv2D
encoder, the soft position embedding (Dense of the 4-channel grid, added), LayerNorm and MLP; Slot
Attention (LayerNorm, q/k/v projections without bias, softmax over slots, the epsilon weighted
mean, GRUCell, residual MLP); then either the spatial broadcast decoder and alpha compositing
(object discovery) or the per-slot classifier (set prediction).

The attribute names, the ``Sequential`` stacks and :func:`build_model`'s functional wrapper are
those of the official code, so a ``tf.train.Checkpoint(network=model, ...)`` of these models has
the object graph of the official checkpoints. The decoder's layers are ``Conv2DTranspose`` when any
decoder stride is > 1 (the official CLEVR decoder), else ``Conv2D`` (the sprites decoder, which the
official code does not have).

Every class exists for any Keras package: :func:`keras_classes` takes the module (``tf.keras``,
Keras 3 under TensorFlow >= 2.16, or ``tf_keras``, the Keras 2 of the official code). Used by
``benchmarks/cpu_vs_tf.py`` (to time a training step), by the tests of ``slot_jax.convert`` and by
the notebook. TensorFlow is imported when a model is built, not with this module.
"""

from __future__ import annotations

import functools
import math
import types

import numpy as np


def build_grid(height: int, width: int) -> np.ndarray:
    """``[1, H, W, 4]`` float32: (y, x, 1 - y, 1 - x), each axis from linspace(0, 1)."""
    ys, xs = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing="ij")
    grid = np.stack([ys, xs], axis=-1)[None].astype(np.float32)
    return np.concatenate([grid, 1.0 - grid], axis=-1)


@functools.cache
def keras_classes(keras) -> types.SimpleNamespace:
    """``SoftPositionEmbed``, ``SlotAttention``, ``SlotAttentionAutoEncoder`` and
    ``SlotAttentionClassifier`` as layers of the Keras package ``keras``."""
    import tensorflow as tf

    layers = keras.layers

    class SoftPositionEmbed(layers.Layer):
        """Adds ``Dense(grid)`` to ``[B, H, W, D]`` features."""

        def __init__(self, size: int, resolution: tuple[int, int]):
            super().__init__()
            self.dense = layers.Dense(size, use_bias=True)
            self.grid = build_grid(*resolution)

        def call(self, x):
            return x + self.dense(self.grid)

    class SlotAttention(layers.Layer):
        """``[B, N, D_in]`` features (and optionally ``[B, K, D]`` standard-normal noise) ->
        ``[B, K, D]`` slots."""

        def __init__(self, num_iterations: int, num_slots: int, slot_size: int,
                     mlp_hidden_size: int, epsilon: float = 1e-8):
            super().__init__()
            self.num_iterations, self.num_slots = num_iterations, num_slots
            self.slot_size, self.epsilon = slot_size, epsilon
            self.norm_inputs = layers.LayerNormalization()
            self.norm_slots = layers.LayerNormalization()
            self.norm_mlp = layers.LayerNormalization()
            self.slots_mu = self.add_weight(initializer="glorot_uniform", shape=[1, 1, slot_size],
                                            dtype=tf.float32, name="slots_mu")
            self.slots_log_sigma = self.add_weight(
                initializer="glorot_uniform", shape=[1, 1, slot_size], dtype=tf.float32,
                name="slots_log_sigma")
            self.project_q = layers.Dense(slot_size, use_bias=False, name="q")
            self.project_k = layers.Dense(slot_size, use_bias=False, name="k")
            self.project_v = layers.Dense(slot_size, use_bias=False, name="v")
            self.gru = layers.GRUCell(slot_size)
            self.mlp = keras.Sequential([layers.Dense(mlp_hidden_size, activation="relu"),
                                         layers.Dense(slot_size)], name="mlp")

        def call(self, inputs, noise=None):
            inputs = self.norm_inputs(inputs)
            k, v = self.project_k(inputs), self.project_v(inputs)
            if noise is None:
                noise = tf.random.normal([tf.shape(inputs)[0], self.num_slots, self.slot_size])
            slots = self.slots_mu + tf.exp(self.slots_log_sigma) * noise
            for _ in range(self.num_iterations):
                prev = slots
                q = self.project_q(self.norm_slots(slots)) * self.slot_size**-0.5
                attn = tf.nn.softmax(tf.einsum("bnd,bkd->bnk", k, q), axis=-1) + self.epsilon
                attn = attn / tf.reduce_sum(attn, axis=-2, keepdims=True)
                updates = tf.einsum("bnk,bnd->bkd", attn, v)
                # the official call passes [B, K, D]; Keras 3's GRUCell takes [B * K, D] only
                flat, _ = self.gru(tf.reshape(updates, [-1, self.slot_size]),
                                   [tf.reshape(prev, [-1, self.slot_size])])
                slots = tf.reshape(flat, [-1, self.num_slots, self.slot_size])
                slots = slots + self.mlp(self.norm_mlp(slots))
            return slots

    class _Encoded(layers.Layer):
        """The encoder and Slot Attention both official models share."""

        def __init__(self, model_cfg):
            super().__init__()
            enc, sa = model_cfg.encoder, model_cfg.slot_attention
            strides = tuple(enc.strides) or (1,) * len(enc.features)
            self.encoder_cnn = keras.Sequential([
                layers.Conv2D(f, enc.kernel_size, strides=s, padding="SAME", activation="relu")
                for f, s in zip(enc.features, strides, strict=True)
            ], name="encoder_cnn")
            down = math.prod(strides)
            h, w = model_cfg.image_size
            self.encoder_pos = SoftPositionEmbed(enc.features[-1], (h // down, w // down))
            self.layer_norm = layers.LayerNormalization()
            self.mlp = keras.Sequential(
                [layers.Dense(f, activation="relu") for f in enc.mlp_features[:-1]]
                + [layers.Dense(enc.mlp_features[-1])], name="feedforward")
            self.slot_attention = SlotAttention(sa.num_iterations, model_cfg.num_slots,
                                                model_cfg.slot_size, sa.mlp_hidden_size, sa.epsilon)

        def slots(self, image, noise=None):
            x = self.encoder_pos(self.encoder_cnn(image))
            x = tf.reshape(x, [-1, x.shape[1] * x.shape[2], x.shape[-1]])
            return self.slot_attention(self.mlp(self.layer_norm(x)), noise)

    class SlotAttentionAutoEncoder(_Encoded):
        """``image [B, H, W, C]`` -> ``(recon [B, H, W, C], rgb [B, K, H, W, C],
        masks [B, K, H, W, 1], slots [B, K, D])``, as the official model returns them."""

        def __init__(self, model_cfg):
            super().__init__(model_cfg)
            dec = model_cfg.decoder
            self.broadcast = tuple(dec.broadcast_size)
            self.decoder_pos = SoftPositionEmbed(model_cfg.slot_size, self.broadcast)
            conv = layers.Conv2DTranspose if math.prod(dec.strides) > 1 else layers.Conv2D
            self.decoder_cnn = keras.Sequential([
                conv(f, dec.kernel_size, strides=s, padding="SAME", activation="relu")
                for f, s in zip(dec.features, dec.strides, strict=True)
            ] + [conv(model_cfg.num_channels + 1, dec.output_kernel_size, padding="SAME")],
                name="decoder_cnn")

        def call(self, image, noise=None):
            slots = self.slots(image, noise)
            h, w = self.broadcast
            x = tf.tile(tf.reshape(slots, [-1, 1, 1, slots.shape[-1]]), [1, h, w, 1])
            x = self.decoder_cnn(self.decoder_pos(x))
            x = tf.reshape(x, [-1, slots.shape[1], *x.shape[1:]])
            rgb, alpha = x[..., :-1], x[..., -1:]
            masks = tf.nn.softmax(alpha, axis=1)
            return tf.reduce_sum(masks * rgb, axis=1), rgb, masks, slots

    class SlotAttentionClassifier(_Encoded):
        """``image [B, H, W, C]`` -> ``predictions [B, K, P]`` (the per-slot MLP, then sigmoid)."""

        def __init__(self, model_cfg):
            super().__init__(model_cfg)
            head = tuple(model_cfg.head.features)
            self.mlp_classifier = keras.Sequential(
                [layers.Dense(f, activation="relu") for f in head[:-1]]
                + [layers.Dense(head[-1], activation="sigmoid")], name="mlp_classifier")

        def call(self, image, noise=None):
            return self.mlp_classifier(self.slots(image, noise))

    return types.SimpleNamespace(
        SoftPositionEmbed=SoftPositionEmbed, SlotAttention=SlotAttention,
        SlotAttentionAutoEncoder=SlotAttentionAutoEncoder,
        SlotAttentionClassifier=SlotAttentionClassifier,
    )


def build_model(model_cfg, batch_size: int | None = None, keras=None):
    """The official ``build_model``: a functional ``keras.Model`` around one
    ``SlotAttentionAutoEncoder`` (``model_cfg.architecture == "autoencoder"``) or
    ``SlotAttentionClassifier`` (``"set_prediction"``) layer, ``model.layers[1]``, of the Keras
    package ``keras`` (default ``tf.keras``)."""
    if keras is None:
        import tensorflow as tf

        keras = tf.keras
    classes = keras_classes(keras)
    kind = {"autoencoder": classes.SlotAttentionAutoEncoder,
            "set_prediction": classes.SlotAttentionClassifier}[model_cfg.architecture]
    image = keras.Input([*model_cfg.image_size, model_cfg.num_channels], batch_size)
    return keras.Model(inputs=image, outputs=kind(model_cfg)(image))


def make_train_step(model, learning_rate: float):
    """A ``tf.function`` step of an autoencoder: MSE loss, its gradients and one Adam update;
    returns the loss."""
    import tensorflow as tf

    optimizer = tf.keras.optimizers.Adam(learning_rate)

    @tf.function
    def step(image):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(image)[0] - image))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    return step
