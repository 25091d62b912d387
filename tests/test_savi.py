"""SAVi, the video model: the image model on one frame, its initialisers, gradients through the
scan over frames, and a video run in chunks with the slots carried over."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

import slot_jax
from slot_jax.models.presets import tiny_savi_model_config

B, T = 2, 3
WIDTHS = {"boxes": 4, "centres": 2}


def video(frames: int = T, seed: int = 0) -> jnp.ndarray:
    return jax.random.uniform(jax.random.key(seed), (B, frames, 8, 8, 3), minval=-1.0, maxval=1.0)


def coordinates(cfg: ml_collections.ConfigDict, seed: int = 1) -> jnp.ndarray | None:
    """Random first-frame boxes or centres for a conditional config; None for the others."""
    width = WIDTHS.get(cfg.slot_init)
    if width is None:
        return None
    return jax.random.uniform(jax.random.key(seed), (B, cfg.num_slots - 1, width))


@pytest.fixture(scope="module")
def conditional():
    """The tiny conditional SAVi (boxes, transformer predictor), its params and a jitted apply."""
    cfg = tiny_savi_model_config()
    model = slot_jax.build_model(cfg)
    params = model.init(jax.random.key(0), video(), conditioning=coordinates(cfg))["params"]
    return cfg, model, params, jax.jit(model.apply)


def test_one_frame_without_predictor_is_the_image_model():
    """SAVi's param tree is the image autoencoder's, and on a one-frame video with the predictor
    bypassed it computes the image model with ``num_iterations=1`` on that frame."""
    cfg = tiny_savi_model_config(slot_init="gaussian")
    cfg.predictor.kind = "identity"
    image_cfg = ml_collections.ConfigDict(cfg.to_dict())
    image_cfg.architecture = "autoencoder"
    del image_cfg["predictor"]
    savi, image_model = slot_jax.build_model(cfg), slot_jax.build_model(image_cfg)
    assert isinstance(savi, slot_jax.SAVi) and isinstance(image_model, slot_jax.SlotAutoencoder)
    frame = video(1)[:, 0]
    noise = jax.random.normal(jax.random.key(3), (B, cfg.num_slots, cfg.slot_size))
    params = savi.init(jax.random.key(0), frame[:, None], noise)["params"]
    image_params = jax.eval_shape(image_model.init, jax.random.key(5), frame, noise)["params"]
    assert jax.tree.map(jnp.shape, params) == jax.tree.map(jnp.shape, image_params)

    out = savi.apply({"params": params}, frame[:, None], noise)
    ref = image_model.apply({"params": params}, frame, noise)
    for key in ("recon", "rgb", "masks", "slots", "attention"):
        assert out[key].shape[:2] == (B, 1), key
        np.testing.assert_allclose(out[key][:, 0], ref[key], atol=1e-6, rtol=0, err_msg=key)
    np.testing.assert_array_equal(out["next_slots"], out["slots"][:, 0])
    # and the frame is really the image model's input: another frame gives other slots
    other = image_model.apply({"params": params}, video(1, seed=9)[:, 0], noise)
    assert not np.allclose(other["slots"], ref["slots"], atol=1e-3)


@pytest.mark.parametrize("slot_init", ["gaussian", "learned_queries", "boxes", "centres"])
def test_shapes_for_each_initialiser(slot_init):
    cfg = tiny_savi_model_config(slot_init=slot_init)
    model = slot_jax.build_model(cfg)
    rngs = {"params": jax.random.key(0), "slots": jax.random.key(1)}
    cond = coordinates(cfg)
    variables = model.init(rngs, video(), conditioning=cond)
    out = model.apply(variables, video(), conditioning=cond, rngs={"slots": jax.random.key(2)})
    k, d, (h, w) = cfg.num_slots, cfg.slot_size, cfg.image_size
    assert out["recon"].shape == (B, T, h, w, 3)
    assert out["rgb"].shape == (B, T, k, h, w, 3)
    assert out["masks"].shape == (B, T, k, h, w, 1)
    assert out["slots"].shape == (B, T, k, d)
    assert out["attention"].shape == (B, T, k, h * w)
    assert out["next_slots"].shape == (B, k, d)
    np.testing.assert_allclose(out["masks"].sum(axis=2), 1.0, atol=1e-5)
    np.testing.assert_allclose(out["attention"].sum(axis=2), 1.0, atol=1e-5)
    # the frames differ, so each frame's slots differ from the last frame's
    assert not np.allclose(out["slots"][:, 0], out["slots"][:, 1], atol=1e-4)


def test_coordinate_init_gives_slot_0_the_zero_background_box():
    init = slot_jax.CoordinateInit(num_slots=4, slot_size=6, hidden_size=8)
    boxes = jax.random.uniform(jax.random.key(0), (B, 3, 4))
    params = init.init(jax.random.key(1), B, None, boxes)["params"]
    leaves, tree = jax.tree.flatten(params)  # random biases too, so the MLP of zero is not zero
    keys = jax.random.split(jax.random.key(2), len(leaves))
    params = tree.unflatten([jax.random.normal(k, p.shape) for k, p in zip(keys, leaves, strict=True)])
    mlp = params["mlp"]
    hidden = jax.nn.relu(mlp["dense_0"]["bias"])  # the first layer of a zero box is its bias
    background = hidden @ mlp["dense_1"]["kernel"] + mlp["dense_1"]["bias"]
    assert float(jnp.abs(background).max()) > 0.1

    slots = init.apply({"params": params}, B, None, boxes)
    assert slots.shape == (B, 4, 6)
    np.testing.assert_allclose(slots[:, 0], jnp.broadcast_to(background, (B, 6)), atol=1e-5)
    moved = boxes.at[0, 1].add(0.5)  # object 2 of video 0 moves: its slot alone changes
    changed = np.abs(init.apply({"params": params}, B, None, moved) - slots).max(axis=-1)
    assert changed[0, 2] > 1e-3
    assert np.count_nonzero(changed > 1e-6) == 1
    other = init.apply({"params": params}, B, None, boxes[::-1])  # other boxes, other slots
    assert np.all(np.abs(other[:, 1:] - slots[:, 1:]).max(axis=-1) > 1e-3)
    # every frame's boxes [B, T, K - 1, 4]: the first frame's are used
    every = jnp.stack([boxes, moved], axis=1)
    np.testing.assert_array_equal(init.apply({"params": params}, B, None, every), slots)


def test_conditional_init_errors_are_clear():
    init = slot_jax.CoordinateInit(num_slots=4, slot_size=6)
    with pytest.raises(ValueError, match="needs the first frame's boxes"):
        init.init(jax.random.key(0), B)
    with pytest.raises(ValueError, match=r"shape \[B, K - 1, 4\] = \(2, 3, 4\)"):
        init.init(jax.random.key(0), B, None, jnp.zeros((B, 4, 4)))
    centres = slot_jax.CoordinateInit(num_slots=4, slot_size=6, coordinates="centres")
    with pytest.raises(ValueError, match=r"\[B, K - 1, 2\]"):
        centres.init(jax.random.key(0), B, None, jnp.zeros((B, 3, 4)))


def test_gradients_are_finite_and_reach_every_parameter(conditional):
    cfg, model, params, _ = conditional
    frames, boxes = video(), coordinates(cfg)

    def loss(params):
        out = model.apply({"params": params}, frames, conditioning=boxes)
        return jnp.mean((out["recon"] - frames) ** 2)

    grads = jax.jit(jax.grad(loss))(params)
    assert set(grads) == {"encoder", "slot_init", "slot_attention", "predictor", "decoder"}
    for path, g in jax.tree_util.tree_leaves_with_path(grads):
        name = jax.tree_util.keystr(path)
        assert bool(jnp.all(jnp.isfinite(g))), name
        assert float(jnp.abs(g).sum()) > 0, name


def test_chunks_with_the_slots_carried_equal_the_whole_video(conditional):
    cfg, _, params, apply = conditional
    frames, boxes = video(), coordinates(cfg)
    whole = apply({"params": params}, frames, conditioning=boxes)
    first = apply({"params": params}, frames[:, :2], conditioning=boxes)
    second = apply({"params": params}, frames[:, 2:], initial_slots=first["next_slots"])
    for key in ("recon", "masks", "slots", "attention"):
        chunks = jnp.concatenate([first[key], second[key]], axis=1)
        np.testing.assert_allclose(chunks, whole[key], atol=1e-5, err_msg=key)
    np.testing.assert_allclose(second["next_slots"], whole["next_slots"], atol=1e-5)
    # the carried slots matter: restarting the second chunk from the boxes gives other slots
    restart = apply({"params": params}, frames[:, 2:], conditioning=boxes)
    assert not np.allclose(restart["slots"], second["slots"], atol=1e-3)


def test_predictor_moves_the_slots_between_frames(conditional):
    """With the transformer block, the next frame starts from the predicted slots, not the
    corrected ones: bypassing it changes every frame after the first."""
    cfg, _, params, apply = conditional
    frames, boxes = video(), coordinates(cfg)
    out = apply({"params": params}, frames, conditioning=boxes)
    cfg = ml_collections.ConfigDict(cfg.to_dict())
    cfg.predictor.kind = "identity"
    bypassed = slot_jax.build_model(cfg)
    without = {k: v for k, v in params.items() if k != "predictor"}
    plain = bypassed.apply({"params": without}, frames, conditioning=boxes)
    np.testing.assert_allclose(plain["slots"][:, 0], out["slots"][:, 0], atol=1e-6)
    assert not np.allclose(plain["slots"][:, 1:], out["slots"][:, 1:], atol=1e-3)


def test_savi_s_preset_geometry():
    cfg = slot_jax.savi_model_config()
    model = slot_jax.build_model(cfg)
    frames = jax.ShapeDtypeStruct((1, 2, 64, 64, 3), jnp.float32)
    boxes = jax.ShapeDtypeStruct((1, cfg.num_slots - 1, 4), jnp.float32)
    variables = jax.eval_shape(lambda v, c: model.init(jax.random.key(0), v, conditioning=c),
                               frames, boxes)
    params = variables["params"]
    assert params["slot_init"]["mlp"]["dense_0"]["kernel"].shape == (4, 256)
    assert params["predictor"]["mlp"]["dense_0"]["kernel"].shape == (128, 256)
    assert params["predictor"]["attention"]["query"]["kernel"].shape == (128, 4, 32)
    out = jax.eval_shape(lambda p, v, c: model.apply(p, v, conditioning=c), variables, frames, boxes)
    assert out["recon"].shape == (1, 2, 64, 64, 3)
    assert out["attention"].shape == (1, 2, cfg.num_slots, 64 * 64)
    assert model.slot_attention.num_iterations == 1


def test_builder_and_model_reject_bad_input():
    cases = [
        (lambda c: setattr(c.predictor, "kind", "lstm"), "config.model.predictor.kind"),
        (lambda c: setattr(c.predictor, "num_heads", 3), "predictor.num_heads=3"),
        (lambda c: setattr(c, "slot_init", "masks"), "config.model.slot_init"),
        (lambda c: c.decoder.update(dict(broadcast_size=(2, 2))), "decoder produces 4x4"),
    ]
    for change, match in cases:
        cfg = tiny_savi_model_config()
        change(cfg)
        with pytest.raises(ValueError, match=match):
            slot_jax.build_model(cfg)
    image_cfg = slot_jax.sprites_model_config()
    image_cfg.slot_init = "boxes"  # conditional initialisers are for video models
    with pytest.raises(ValueError, match="config.model.slot_init='boxes'"):
        slot_jax.build_model(image_cfg)
    model = slot_jax.build_model(tiny_savi_model_config())
    with pytest.raises(ValueError, match=r"The video must have shape \[B, T, H, W, C\]"):
        model.init(jax.random.key(0), video()[:, 0])
    with pytest.raises(ValueError, match="initial_slots batch 1 != video batch 2"):
        model.init(jax.random.key(0), video(), initial_slots=jnp.zeros((1, 3, 16)))
