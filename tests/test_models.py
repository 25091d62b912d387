"""The autoencoder, its parts and the builder, for both paper architectures."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import init_model, tiny_clevr_config, tiny_sprites_config

import slot_jax


def test_output_shapes_and_masks(tiny_model):
    cfg, model, variables, image = tiny_model
    out = model.apply(variables, image, rngs={"slots": jax.random.key(4)})
    b, (h, w), k, d = 2, cfg.image_size, cfg.num_slots, cfg.slot_size
    n = h * w  # both tiny encoders keep full resolution
    assert out["recon"].shape == (b, h, w, 3)
    assert out["rgb"].shape == (b, k, h, w, 3)
    assert out["masks"].shape == (b, k, h, w, 1)
    assert out["slots"].shape == (b, k, d)
    assert out["attention"].shape == (b, k, n)
    np.testing.assert_allclose(out["masks"].sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out["attention"].sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        out["recon"], jnp.sum(out["masks"] * out["rgb"], axis=1), atol=1e-5
    )


def test_gradients_reach_mu_and_log_sigma(tiny_model):
    _, model, variables, image = tiny_model

    def loss(params):
        out = model.apply({"params": params}, image, rngs={"slots": jax.random.key(4)})
        return jnp.mean((out["recon"] - image) ** 2)

    g = jax.jit(jax.grad(loss))(variables["params"])["slot_init"]
    assert float(jnp.abs(g["mu"]).sum()) > 0
    assert float(jnp.abs(g["log_sigma"]).sum()) > 0


def test_slot_sampling_uses_the_slots_rng_or_given_noise(tiny_model):
    cfg, model, variables, image = tiny_model
    a = model.apply(variables, image, rngs={"slots": jax.random.key(1)})["slots"]
    b = model.apply(variables, image, rngs={"slots": jax.random.key(2)})["slots"]
    assert not np.allclose(a, b)
    noise = jax.random.normal(jax.random.key(7), (2, cfg.num_slots, cfg.slot_size))
    c = model.apply(variables, image, noise)["slots"]  # no rng needed
    np.testing.assert_array_equal(c, model.apply(variables, image, noise)["slots"])
    assert not np.allclose(a, c)


def test_learned_queries_are_deterministic():
    cfg = tiny_sprites_config()
    cfg.slot_init = "learned_queries"
    model, variables, image = init_model(cfg)
    assert variables["params"]["slot_init"]["queries"].shape == (1, cfg.num_slots, cfg.slot_size)
    a = model.apply(variables, image)["slots"]  # no rng needed
    np.testing.assert_array_equal(a, model.apply(variables, image)["slots"])


def _num_params(cfg):
    model = slot_jax.build_model(cfg)
    image = jnp.zeros((1, *cfg.image_size, cfg.num_channels))
    shapes = jax.eval_shape(
        lambda: model.init({"params": jax.random.key(0), "slots": jax.random.key(1)}, image)
    )
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(shapes["params"]))


def test_clevr_parameter_count_matches_official():
    n = _num_params(slot_jax.clevr_model_config())
    # Official: 890,308. Flax's GRUCell has 2*D = 128 fewer (redundant) biases than Keras'.
    assert n == 890_308 - 128
    assert abs(n - 890_308) / 890_308 < 0.01


def test_wrong_rank_and_channels_give_clear_errors():
    cfg = tiny_sprites_config()
    model, variables, image = init_model(cfg)
    rngs = {"slots": jax.random.key(0)}
    with pytest.raises(ValueError, match=r"image must have shape \[B, H, W, C\]"):
        model.apply(variables, image[0], rngs=rngs)
    with pytest.raises(ValueError, match="has 1 channels but the model expects 3"):
        model.apply(variables, image[..., :1], rngs=rngs)
    with pytest.raises(ValueError, match="image is 8x8 but the decoder produces 12x12"):
        model.apply(variables, image[:, :8, :8], rngs=rngs)


def test_builder_rejects_inconsistent_configs():
    cfg = tiny_clevr_config()
    cfg.image_size = (32, 32)
    with pytest.raises(ValueError, match="decoder produces 16x16"):
        slot_jax.build_model(cfg)
    cfg = tiny_clevr_config()
    cfg.slot_init = "uniform"
    with pytest.raises(ValueError, match="slot_init='uniform'"):
        slot_jax.build_model(cfg)
    with pytest.raises(ValueError, match="dtype='float16'"):
        slot_jax.build_model(tiny_clevr_config(), "float16")


def test_bfloat16_compute_keeps_float32_params():
    cfg = tiny_sprites_config()
    model, variables, image = init_model(cfg, dtype="bfloat16")
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(variables))
    out = model.apply(variables, image, rngs={"slots": jax.random.key(0)})
    assert out["recon"].dtype == jnp.float32
    assert out["rgb"].dtype == jnp.bfloat16
    np.testing.assert_allclose(out["masks"].sum(axis=1), 1.0, atol=1e-5)
