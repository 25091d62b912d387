"""Invariant Slot Attention: equivariance, attention, gradients, transforms, devices and training."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tiny_train_config
from test_train import _losses

from slot_jax import (
    InvariantSlotAttention,
    PoseSlotInit,
    build_linear_grid,
    invariant_model_config,
)
from slot_jax.train import train

B, H, W, D_IN, K, D = 2, 8, 8, 8, 3, 16
CELL = 2.0 / (H - 1)  # grid spacing of build_linear_grid
GRID = build_linear_grid(H, W).reshape(H * W, 2)
KINDS = ("translation", "translation_scale", "translation_rotation_scale")


def _feature_map():
    """[B, H, W, D_IN]: random content in the central 4x4 cells, zero on a 2-cell border."""
    x = jax.random.normal(jax.random.key(0), (B, H, W, D_IN))
    inside = jnp.zeros((H, W)).at[2:-2, 2:-2].set(1.0)[None, :, :, None]
    return x * inside


X = _feature_map().reshape(B, H * W, D_IN)
SLOTS = jax.random.normal(jax.random.key(1), (B, K, D))


def _poses(kind):
    # Small positions, so shifted ones stay inside [-1, 1] (initial positions are clipped there).
    keys = jax.random.split(jax.random.key(2), 3)
    poses = {"positions": jax.random.uniform(keys[0], (B, K, 2), minval=-0.4, maxval=0.4)}
    if kind != "translation":
        poses["scales"] = jax.random.uniform(keys[1], (B, K, 2), minval=0.2, maxval=0.5)
    if kind == "translation_rotation_scale":
        poses["rotations"] = PoseSlotInit(K, D, kind).apply(
            {"params": {"states": jnp.zeros((1, K, D))}}, B,
            rngs={"slots": keys[2]})[1]["rotations"]
    return poses


def _make(kind):
    isa = InvariantSlotAttention(kind=kind, mlp_hidden_size=16, grid_hidden_size=16)
    return isa, isa.init(jax.random.key(3), X, GRID, SLOTS, _poses(kind))


MODELS = {kind: _make(kind) for kind in KINDS}


@jax.jit(static_argnums=0)
def _apply(kind, params, x, grid, slots, poses):
    return MODELS[kind][0].apply(params, x, grid, slots, poses)


def run(kind, x=X, grid=GRID, slots=SLOTS, poses=None):
    params = MODELS[kind][1]
    return _apply(kind, params, x, grid, slots, _poses(kind) if poses is None else poses)


@pytest.mark.parametrize("kind", KINDS)
def test_shapes_and_attention_sums_to_one_over_slots(kind):
    slots, poses, attn = run(kind)
    assert slots.shape == (B, K, D) and attn.shape == (B, K, H * W)
    assert set(poses) == set(_poses(kind))
    np.testing.assert_allclose(attn.sum(axis=1), 1.0, atol=1e-5)
    assert float(attn.std()) > 1e-3


@pytest.mark.parametrize("kind", KINDS)
def test_moving_grid_and_positions_moves_positions_only(kind):
    """Exact translation equivariance: the inputs' coordinates and the initial positions move by t."""
    t = jnp.array([2 * CELL, -3 * CELL])
    slots, poses, attn = run(kind)
    moved = dict(_poses(kind), positions=_poses(kind)["positions"] + t)
    slots_t, poses_t, attn_t = run(kind, grid=GRID + t, poses=moved)
    np.testing.assert_allclose(slots_t, slots, atol=1e-4)
    np.testing.assert_allclose(attn_t, attn, atol=1e-4)
    np.testing.assert_allclose(poses_t["positions"], poses["positions"] + t, atol=1e-4)
    for key in set(poses) - {"positions"}:  # rotations: a nearly isotropic covariance at init
        np.testing.assert_allclose(poses_t[key], poses[key], atol=2e-3 if key == "rotations" else 1e-4)


def test_shifted_feature_map_shifts_positions():
    """The content of a zero-bordered feature map moves by (dy, dx) cells, each pixel keeping the
    coordinate its content had plus t (so the moved scene is the same set of (feature, coordinate)
    pairs, shifted), and the initial positions move by t: positions follow, slots are unchanged.
    (On a fixed finite grid the background would be seen at other relative positions, so an
    untrained model is not equivariant there; this test removes that boundary effect.)"""
    dy, dx = 1, -2
    t = jnp.array([dy * CELL, dx * CELL])
    roll = lambda a: jnp.roll(a.reshape(-1, H, W, a.shape[-1]), (dy, dx), axis=(1, 2))  # noqa: E731
    shifted = roll(X).reshape(B, H * W, D_IN)
    grid = roll(GRID[None])[0].reshape(H * W, 2) + t
    slots, poses, attn = run("translation")
    moved = {"positions": _poses("translation")["positions"] + t}
    slots_s, poses_s, attn_s = run("translation", x=shifted, grid=grid, poses=moved)
    np.testing.assert_allclose(poses_s["positions"], poses["positions"] + t, atol=1e-5)
    np.testing.assert_allclose(slots_s, slots, atol=1e-4)
    np.testing.assert_allclose(roll(attn.reshape(B * K, H * W, 1)).reshape(B, K, -1), attn_s,
                               atol=1e-5)


@pytest.mark.parametrize("kind", ["translation_scale", "translation_rotation_scale"])
def test_scaling_grid_and_poses_scales_poses_only(kind):
    s = 1.5
    slots, poses, _ = run(kind)
    init = _poses(kind)
    scaled = dict(init, positions=init["positions"] * s, scales=init["scales"] * s)
    slots_s, poses_s, _ = run(kind, grid=GRID * s, poses=scaled)
    np.testing.assert_allclose(slots_s, slots, atol=1e-4)
    np.testing.assert_allclose(poses_s["positions"], poses["positions"] * s, atol=1e-5)
    np.testing.assert_allclose(poses_s["scales"], poses["scales"] * s, rtol=1e-4)


def test_rotating_grid_rotates_relative_grids_and_poses():
    """Rotating the grid and the poses leaves the relative grid unchanged and rotates the poses
    computed from a fixed attention. (The full module is not compared: at initialisation the
    attention is nearly uniform, so its covariance is nearly isotropic and the principal angle is
    ill-conditioned.)"""
    from slot_jax.models.poses import POSE_KEYS, attention_poses, relative_grid

    kind, angle = "translation_rotation_scale", 0.1
    rot = jnp.array([[jnp.cos(angle), -jnp.sin(angle)], [jnp.sin(angle), jnp.cos(angle)]])
    init = _poses(kind)
    turned = dict(init, positions=init["positions"] @ rot.T, rotations=rot @ init["rotations"])
    np.testing.assert_allclose(relative_grid(GRID @ rot.T, turned, 1.0),
                               relative_grid(GRID, init, 1.0), atol=1e-5)
    w = jax.nn.softmax(3 * jax.random.normal(jax.random.key(0), (B, K, H * W)), axis=-1)
    p = attention_poses(w, GRID, POSE_KEYS[kind], 1e-3, 2.0)
    p_r = attention_poses(w, GRID @ rot.T, POSE_KEYS[kind], 1e-3, 2.0)
    np.testing.assert_allclose(p_r["positions"], p["positions"] @ rot.T, atol=1e-5)
    np.testing.assert_allclose(p_r["scales"], p["scales"], rtol=1e-4)
    np.testing.assert_allclose(p_r["rotations"], rot @ p["rotations"], atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_reach_every_parameter(kind):
    isa, params = MODELS[kind]
    grads = jax.grad(lambda p: jnp.sum(isa.apply(p, X, GRID, SLOTS, _poses(kind))[0] ** 2))(params)
    zero = [jax.tree_util.keystr(path) for path, g in jax.tree_util.tree_leaves_with_path(grads)
            if not float(jnp.abs(g).max()) > 0]
    assert not zero


def _literal_and_factored(kind, add_rel_pos_to_values, params, poses):
    """The outputs and parameter gradients of ``factored=False`` (the keys and values as the
    paper defines them) and of the default factored form, for one loss of all the outputs."""
    probe = jax.random.normal(jax.random.key(5), (B, K, H * W))
    results = []
    for factored in (False, True):
        isa = InvariantSlotAttention(kind, mlp_hidden_size=16, grid_hidden_size=16,
                                     add_rel_pos_to_values=add_rel_pos_to_values, factored=factored)

        def loss(p, isa=isa):
            out = isa.apply(p, X, GRID, SLOTS, poses)
            slots, new_poses, attn = out
            value = jnp.sum(slots**2) + jnp.sum(attn * probe)  # attention sums to 1 over slots
            return value + sum(jnp.sum(x * x) for x in new_poses.values()), out

        results.append(jax.grad(loss, has_aux=True)(params))
    return results


@pytest.mark.parametrize("add_rel_pos_to_values", [True, False])
@pytest.mark.parametrize("kind", KINDS)
def test_factored_keys_and_values_match_the_literal_form(kind, add_rel_pos_to_values):
    """The default (factored) form has the same parameters and computes the same slots, poses,
    attention and parameter gradients as the keys and values computed literally."""
    poses, params = _poses(kind), MODELS[kind][1]  # initialised by the factored form
    if add_rel_pos_to_values:  # the literal form makes the same parameter tree and initial values
        literal = InvariantSlotAttention(kind, mlp_hidden_size=16, grid_hidden_size=16,
                                         factored=False)
        jax.tree.map(np.testing.assert_array_equal,
                     literal.init(jax.random.key(3), X, GRID, SLOTS, poses), params)
    (grads_l, out_l), (grads_f, out_f) = _literal_and_factored(kind, add_rel_pos_to_values,
                                                               params, poses)
    jax.tree.map(lambda f, lit: np.testing.assert_allclose(f, lit, atol=1e-5), out_f, out_l)

    def same_gradient(path, g_f, g_l):  # to 1e-4 of the parameter's largest gradient
        scale = float(jnp.abs(g_l).max())
        assert scale > 0, jax.tree_util.keystr(path)
        np.testing.assert_allclose(g_f / scale, g_l / scale, atol=1e-4,
                                   err_msg=jax.tree_util.keystr(path))

    jax.tree_util.tree_map_with_path(same_gradient, grads_f, grads_l)


def test_bfloat16_factored_and_literal_forms_stay_close_to_float32():
    """bfloat16 Dense layers: both forms within bfloat16 rounding of float32 (2e-2 seen)."""
    kind = "translation_scale"
    isa, params = MODELS[kind]
    ref = run(kind)
    for factored in (False, True):
        out = isa.clone(dtype=jnp.bfloat16, factored=factored).apply(params, X, GRID, SLOTS,
                                                                      _poses(kind))
        jax.tree.map(lambda o, r: np.testing.assert_allclose(o, r, atol=0.1), out, ref)


def test_jit_vmap_grad_and_inside_a_module():
    kind = "translation_scale"
    isa, params = MODELS[kind]
    poses = _poses(kind)
    xs = jnp.stack([X, X * 2])
    out = jax.jit(jax.vmap(lambda x: isa.apply(params, x, GRID, SLOTS, poses)[0]))(xs)
    np.testing.assert_allclose(out[0], run(kind)[0], atol=1e-5)
    g = jax.grad(lambda x: jnp.sum(isa.apply(params, x, GRID, SLOTS, poses)[0]))(X)
    assert g.shape == X.shape and float(jnp.abs(g).sum()) > 0

    class Wrapper(nn.Module):
        @nn.compact
        def __call__(self, x):
            slots, poses = PoseSlotInit(K, D, kind)(x.shape[0])
            slots, poses, _ = InvariantSlotAttention(kind, mlp_hidden_size=16,
                                                     grid_hidden_size=16)(x, GRID, slots, poses)
            return nn.Dense(1)(slots).sum() + poses["scales"].sum()

    wrapper = Wrapper()
    rngs = {"params": jax.random.key(0), "slots": jax.random.key(1)}
    variables = wrapper.init(rngs, X)
    value = jax.jit(wrapper.apply)(variables, X, rngs={"slots": jax.random.key(2)})
    assert np.isfinite(float(value))


def test_pose_init_uses_a_key_per_quantity():
    init = PoseSlotInit(K, D, "translation_rotation_scale")
    noise = init.sample_noise(jax.random.key(0), 64)
    u_pos, n_scale, u_angle = noise["positions"], noise["scales"], noise["rotations"]
    assert u_pos.shape == (64, K, 2) and n_scale.shape == (64, K, 2) and u_angle.shape == (64, K, 1)
    # Independent draws: no entry of one is a function of the same bits as another.
    corr = np.corrcoef(np.asarray(u_pos[..., 0]).ravel(), np.asarray(n_scale[..., 0]).ravel())[0, 1]
    assert abs(corr) < 0.2
    assert not np.allclose(u_pos[..., :1], u_angle)
    variables = init.init({"params": jax.random.key(1), "slots": jax.random.key(2)}, 4)
    _, poses = init.apply(variables, 4, noise=jax.tree.map(lambda x: x[:4], noise))
    assert float(poses["positions"].min()) >= -1 and float(poses["positions"].max()) <= 1
    rot = poses["rotations"]
    np.testing.assert_allclose(rot @ jnp.swapaxes(rot, -1, -2), jnp.broadcast_to(jnp.eye(2), rot.shape),
                               atol=1e-5)
    learned = PoseSlotInit(K, D, "translation_rotation_scale", learned=True)
    params = learned.init(jax.random.key(1), 4)
    assert set(params["params"]) == {"states", "positions", "scales", "angles"}
    assert learned.sample_noise(jax.random.key(0), 4) is None


@pytest.mark.parametrize(
    "grid,poses,match",
    [
        (GRID[:10], None, r"grid has shape \(10, 2\) but the 64 inputs need \[N, 2\]"),
        (GRID[:, :1], None, r"grid has shape \(64, 1\)"),
        (GRID, {"positions": jnp.zeros((B, K + 1, 2))}, r"poses\['positions'\] has shape"),
        (GRID, {"positions": jnp.zeros((B, K, 2)), "scales": jnp.ones((B, K, 2))},
         r"needs poses with keys \['positions'\]"),
    ],
)
def test_bad_input_errors(grid, poses, match):
    with pytest.raises(ValueError, match=match):
        MODELS["translation"][0].apply(MODELS["translation"][1], X, grid, SLOTS,
                                       poses or _poses("translation"))


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match=r"Unknown invariant kind='shear'; choose one of"):
        InvariantSlotAttention(kind="shear").init(jax.random.key(0), X, GRID, SLOTS, {})


def isa_train_config(data_dir, kind="translation_scale", **overrides):
    config = tiny_train_config(data_dir, **overrides)
    config.model = invariant_model_config(config.model, kind)
    config.model.slot_attention.grid_hidden_size = 16
    return config


@pytest.fixture(scope="module")
def isa_reference_run(tfds_dir, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("isa_reference"))
    state = train(isa_train_config(tfds_dir, eval_every=4), workdir, devices=jax.devices()[:1])
    return workdir, state


def test_training_smoke_run(isa_reference_run):
    workdir, state = isa_reference_run
    losses = _losses(workdir)
    assert len(losses) == 4 and all(np.isfinite(losses))
    assert int(state.step) == 4
    import os

    assert os.listdir(os.path.join(workdir, "eval"))  # the evaluation at step 4 was logged


@pytest.mark.parametrize("mode", ["mesh", "pmap"])
def test_four_devices_match_one(isa_reference_run, tfds_dir, tmp_path, mode):
    assert jax.device_count() == 4
    workdir, _ = isa_reference_run
    train(isa_train_config(tfds_dir, eval_every=4, parallelism=mode), str(tmp_path))
    np.testing.assert_allclose(_losses(str(tmp_path)), _losses(workdir), rtol=1e-5)
