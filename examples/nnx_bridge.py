"""Use slot_jax's modules (Flax linen) inside your own Flax NNX model, through ``flax.nnx.bridge``.

``bridge.ToNNX(module, rngs=nnx.Rngs(params=..., slots=...))`` wraps a linen module as an NNX
module, and ``bridge.lazy_init(model, *inputs)`` creates its parameters from sample inputs (linen
infers shapes from them). After that the wrapped module is an ordinary NNX submodule: ``nnx.jit``,
``nnx.value_and_grad`` and ``nnx.Optimizer`` see its parameters as ``nnx.Param``, and the Rngs'
``"slots"`` stream draws the Gaussian slot noise on each call. Two small models, each initialised
and trained for a few Adam steps (the autoencoder also checked against linen on the same params);
runs in under a minute on CPU:

* ``PointSetSlots``: NNX layers around ``slot_jax.SlotAttention`` and its Gaussian slot initialiser
  (the model of ``examples/embed_slot_attention.py``, written in NNX);
* ``ImageSlots``: the image autoencoder (``slot_jax.build_model``) inside an NNX model.

    python examples/nnx_bridge.py
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from flax.nnx import bridge

import slot_jax


class PointSetSlots(nnx.Module):
    """points [B, N, 3] -> (scores [B, K], slots [B, K, D], attention [B, K, N])."""

    def __init__(self, num_slots: int = 4, slot_size: int = 16, *, rngs: nnx.Rngs):
        self.embed = nnx.Linear(3, slot_size, rngs=rngs)
        self.features = nnx.Linear(slot_size, slot_size, rngs=rngs)
        self.slot_init = bridge.ToNNX(slot_jax.GaussianSlotInit(num_slots, slot_size), rngs=rngs)
        self.slot_attention = bridge.ToNNX(
            slot_jax.SlotAttention(num_iterations=3, mlp_hidden_size=32), rngs=rngs
        )
        self.head = nnx.Linear(slot_size, 1, rngs=rngs)

    def __call__(self, points: jnp.ndarray):
        feats = self.features(nnx.relu(self.embed(points)))
        slots, attention = self.slot_attention(feats, self.slot_init(points.shape[0]))
        return self.head(slots)[..., 0], slots, attention


class ImageSlots(nnx.Module):
    """image [B, H, W, C] (, slot_noise [B, K, D]) -> the autoencoder's ``recon``, ``masks``, ...

    ``config`` is a model config (``slot_jax.sprites_model_config()`` and the like)."""

    def __init__(self, config, *, rngs: nnx.Rngs):
        self.autoencoder = bridge.ToNNX(slot_jax.build_model(config), rngs=rngs)

    def __call__(self, image: jnp.ndarray, slot_noise: jnp.ndarray | None = None) -> dict:
        return self.autoencoder(image, slot_noise)


def make_train_step(loss_fn: Callable) -> Callable:
    """``step(model, optimizer, batch) -> loss``: one compiled optimizer step on
    ``loss_fn(model, batch)``; the model and optimizer are updated in place."""

    @nnx.jit
    def step(model: nnx.Module, optimizer: nnx.Optimizer, batch: jnp.ndarray) -> jnp.ndarray:
        loss, grads = nnx.value_and_grad(loss_fn)(model, batch)
        optimizer.update(model, grads)
        return loss

    return step


def train(model: nnx.Module, loss_fn: Callable, batch: jnp.ndarray, steps: int) -> list[float]:
    """The loss of each of ``steps`` Adam steps on the same ``batch``."""
    optimizer = nnx.Optimizer(model, optax.adam(2e-3), wrt=nnx.Param)
    step = make_train_step(loss_fn)
    return [float(step(model, optimizer, batch)) for _ in range(steps)]


def point_loss(model: PointSetSlots, points: jnp.ndarray) -> jnp.ndarray:
    scores, _, _ = model(points)
    return jnp.mean(jax.nn.softplus(-scores))


def image_loss(model: ImageSlots, image: jnp.ndarray) -> jnp.ndarray:
    return jnp.mean((model(image)["recon"] - image) ** 2)


def params_of(module: nnx.Module) -> dict:
    """The module's parameters as a nested dict; of a bridged module, its linen ``params``."""
    return nnx.to_pure_dict(nnx.state(module, nnx.Param))


def largest_change(before: dict, after: dict) -> float:
    """The largest absolute difference between two parameter trees of the same structure."""
    return float(max(jax.tree.leaves(jax.tree.map(lambda a, b: jnp.max(jnp.abs(a - b)), before, after))))


def main(steps: int = 8) -> dict:
    """Builds, checks and trains both models; returns their shapes, the largest difference between
    the bridged autoencoder and the linen one applied to the same params, the losses, and how far
    the bridged SlotAttention's params moved in training."""
    rngs = nnx.Rngs(params=0, slots=1)
    points = jax.random.normal(jax.random.key(2), (8, 32, 3))
    point_model = bridge.lazy_init(PointSetSlots(rngs=rngs), points)
    scores, slots, attention = nnx.jit(lambda model, x: model(x))(point_model, points)

    config = slot_jax.sprites_model_config(num_slots=3, image_size=(8, 8))  # the sprites model, 8x8
    image = jax.random.uniform(jax.random.key(3), (4, *config.image_size, 3), minval=-1, maxval=1)
    image_model = bridge.lazy_init(ImageSlots(config, rngs=rngs), image)
    # With the same params and slot noise, the bridged module computes what linen computes.
    noise = jax.random.normal(jax.random.key(4), (4, config.num_slots, config.slot_size))
    params = params_of(image_model.autoencoder)
    linen = slot_jax.build_model(config).apply({"params": params}, image, noise)
    difference = float(jnp.max(jnp.abs(image_model(image, noise)["recon"] - linen["recon"])))

    before = params_of(point_model.slot_attention)
    results = {
        "scores": scores.shape, "slots": slots.shape, "attention": attention.shape,
        "bridge_vs_linen": difference,
        "point_losses": train(point_model, point_loss, points, steps),
        "image_losses": train(image_model, image_loss, image, steps),
    }
    results["slot_attention_change"] = largest_change(before, params_of(point_model.slot_attention))
    for name in ("scores", "slots", "attention"):
        print(f"{name:10s} {results[name]}")
    print(f"bridged autoencoder vs linen: max |recon difference| {difference:.2e}")
    for name in ("point_losses", "image_losses"):
        losses = results[name]
        print(f"{name:12s} {losses[0]:.4f} -> {losses[-1]:.4f} in {steps} Adam steps")
    print(f"the bridged SlotAttention's params moved by up to {results['slot_attention_change']:.2e}")
    return results


if __name__ == "__main__":
    main()
