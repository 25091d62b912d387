"""Use slot_jax.SlotAttention inside your own Flax module.

A tiny "set encoder": an MLP embeds a point cloud, learned-Gaussian slots attend over the points, and a
head scores each slot. We initialise it, jit it, and take gradients. Runs in seconds on CPU:

    python examples/embed_slot_attention.py
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

import slot_jax


class PointSetSlots(nn.Module):
    """points [B, N, 3] -> (scores [B, K], slots [B, K, D], attention [B, K, N])."""

    num_slots: int = 4
    slot_size: int = 32

    @nn.compact
    def __call__(self, points: jnp.ndarray):
        feats = nn.Dense(self.slot_size)(nn.relu(nn.Dense(self.slot_size)(points)))
        init = slot_jax.GaussianSlotInit(self.num_slots, self.slot_size)(points.shape[0])
        slots, attention = slot_jax.SlotAttention(num_iterations=3, mlp_hidden_size=64)(feats, init)
        scores = nn.Dense(1)(slots)[..., 0]
        return scores, slots, attention


def main() -> dict[str, tuple[int, ...]]:
    model = PointSetSlots()
    points = jax.random.normal(jax.random.key(0), (8, 100, 3))
    rngs = {"params": jax.random.key(1), "slots": jax.random.key(2)}
    params = model.init(rngs, points)["params"]

    @jax.jit
    def loss_and_grad(params, points, rng):
        def loss(p):
            scores, _, _ = model.apply({"params": p}, points, rngs={"slots": rng})
            return jnp.mean(jax.nn.softplus(-scores))

        return jax.value_and_grad(loss)(params)

    apply = jax.jit(model.apply)
    scores, slots, attention = apply({"params": params}, points, rngs={"slots": jax.random.key(3)})
    loss, grads = loss_and_grad(params, points, jax.random.key(4))
    shapes = {
        "points": points.shape, "scores": scores.shape, "slots": slots.shape,
        "attention": attention.shape,
    }
    for name, shape in shapes.items():
        print(f"{name:10s} {shape}")
    grad_norm = float(jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree.leaves(grads))))
    print(f"loss {float(loss):.4f}  grad norm {grad_norm:.4f}  "
          f"params {sum(p.size for p in jax.tree.leaves(params)):,}")
    return shapes


if __name__ == "__main__":
    main()
