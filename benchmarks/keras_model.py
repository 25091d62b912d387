"""A TF/Keras Slot Attention autoencoder built from a slot_jax model config, for CPU comparisons.

Written from the official architecture's description (Locatello et al., 2020; the TF2 code's layer
list): a Conv2D encoder, the soft position embedding (Dense of the 4-channel grid, added), LayerNorm
and MLP; Slot Attention (LayerNorm, k/v/q projections without bias, softmax over slots, the epsilon
weighted mean, GRUCell, residual MLP); a spatial broadcast decoder of ``Conv2DTranspose`` layers when
any stride is > 1 (the CLEVR decoder, as in the official code) or ``Conv2D`` layers otherwise (the
sprites decoder), then alpha compositing and the MSE loss. Only used to time a training step.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

keras = tf.keras
layers = keras.layers


def build_grid(height: int, width: int) -> np.ndarray:
    """``[1, H, W, 4]`` float32: (y, x, 1 - y, 1 - x), each axis from linspace(0, 1)."""
    ys, xs = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing="ij")
    grid = np.stack([ys, xs], axis=-1)[None].astype(np.float32)
    return np.concatenate([grid, 1.0 - grid], axis=-1)


class SoftPositionEmbed(layers.Layer):
    """Adds ``Dense(grid)`` to ``[B, H, W, D]`` features."""

    def __init__(self, size: int, resolution: tuple[int, int]):
        super().__init__()
        self.dense = layers.Dense(size, use_bias=True)
        self.grid = tf.constant(build_grid(*resolution))

    def call(self, x):
        return x + self.dense(self.grid)


class SlotAttention(layers.Layer):
    """``[B, N, D_in]`` features -> ``[B, K, D]`` slots, as in the official TF2 module."""

    def __init__(self, num_iterations: int, num_slots: int, slot_size: int, mlp_hidden: int,
                 epsilon: float = 1e-8):
        super().__init__()
        self.num_iterations, self.num_slots, self.slot_size = num_iterations, num_slots, slot_size
        self.epsilon = epsilon
        self.norm_inputs = layers.LayerNormalization()
        self.norm_slots = layers.LayerNormalization()
        self.norm_mlp = layers.LayerNormalization()
        self.mu = self.add_weight(shape=[1, 1, slot_size], initializer="glorot_uniform", name="mu")
        self.log_sigma = self.add_weight(shape=[1, 1, slot_size], initializer="glorot_uniform",
                                         name="log_sigma")
        self.project_q = layers.Dense(slot_size, use_bias=False)
        self.project_k = layers.Dense(slot_size, use_bias=False)
        self.project_v = layers.Dense(slot_size, use_bias=False)
        self.gru = layers.GRUCell(slot_size)
        self.mlp = keras.Sequential([layers.Dense(mlp_hidden, activation="relu"),
                                     layers.Dense(slot_size)])

    def call(self, inputs):
        inputs = self.norm_inputs(inputs)
        k, v = self.project_k(inputs), self.project_v(inputs)
        batch = tf.shape(inputs)[0]
        noise = tf.random.normal([batch, self.num_slots, self.slot_size])
        slots = self.mu + tf.exp(self.log_sigma) * noise
        for _ in range(self.num_iterations):
            prev = slots
            q = self.project_q(self.norm_slots(slots)) * self.slot_size ** -0.5
            attn = tf.nn.softmax(tf.einsum("bnd,bkd->bnk", k, q), axis=-1) + self.epsilon
            attn = attn / tf.reduce_sum(attn, axis=-2, keepdims=True)
            updates = tf.einsum("bnk,bnd->bkd", attn, v)
            flat, _ = self.gru(tf.reshape(updates, [-1, self.slot_size]),
                               [tf.reshape(prev, [-1, self.slot_size])])
            slots = tf.reshape(flat, [-1, self.num_slots, self.slot_size])
            slots = slots + self.mlp(self.norm_mlp(slots))
        return slots


class Autoencoder(keras.Model):
    """``[B, H, W, C]`` images -> the reconstruction ``[B, H, W, C]``."""

    def __init__(self, model_cfg, image_size: tuple[int, int]):
        super().__init__()
        enc, dec, sa = model_cfg.encoder, model_cfg.decoder, model_cfg.slot_attention
        strides = tuple(enc.strides) or (1,) * len(enc.features)
        self.encoder_convs = [
            layers.Conv2D(f, enc.kernel_size, strides=s, padding="same", activation="relu")
            for f, s in zip(enc.features, strides, strict=True)
        ]
        down = math.prod(strides)
        self.encoder_pos = SoftPositionEmbed(enc.features[-1],
                                             (image_size[0] // down, image_size[1] // down))
        self.encoder_norm = layers.LayerNormalization()
        self.encoder_mlp = keras.Sequential(
            [layers.Dense(f, activation="relu") for f in enc.mlp_features[:-1]]
            + [layers.Dense(enc.mlp_features[-1])]
        )
        self.num_slots, self.slot_size = model_cfg.num_slots, model_cfg.slot_size
        self.slot_attention = SlotAttention(sa.num_iterations, model_cfg.num_slots,
                                            model_cfg.slot_size, sa.mlp_hidden_size)
        self.broadcast = tuple(dec.broadcast_size)
        self.decoder_pos = SoftPositionEmbed(model_cfg.slot_size, self.broadcast)
        transposed = math.prod(dec.strides) > 1
        conv = layers.Conv2DTranspose if transposed else layers.Conv2D
        self.decoder_convs = [
            conv(f, dec.kernel_size, strides=s, padding="same", activation="relu")
            for f, s in zip(dec.features, dec.strides, strict=True)
        ]
        self.decoder_out = conv(model_cfg.num_channels + 1, dec.output_kernel_size, padding="same")

    def call(self, image):
        x = image
        for layer in self.encoder_convs:
            x = layer(x)
        x = self.encoder_pos(x)
        x = tf.reshape(x, [tf.shape(x)[0], -1, x.shape[-1]])
        slots = self.slot_attention(self.encoder_mlp(self.encoder_norm(x)))
        h, w = self.broadcast
        x = tf.tile(tf.reshape(slots, [-1, 1, 1, self.slot_size]), [1, h, w, 1])
        x = self.decoder_pos(x)
        for layer in self.decoder_convs:
            x = layer(x)
        x = self.decoder_out(x)
        x = tf.reshape(x, [-1, self.num_slots, *x.shape[1:]])
        rgb, alpha = x[..., :-1], x[..., -1:]
        masks = tf.nn.softmax(alpha, axis=1)
        return tf.reduce_sum(masks * rgb, axis=1)


def make_train_step(model: Autoencoder, learning_rate: float):
    """A ``tf.function`` step: MSE loss, its gradients and one Adam update; returns the loss."""
    optimizer = keras.optimizers.Adam(learning_rate)

    @tf.function
    def step(image):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(image) - image))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    return step
