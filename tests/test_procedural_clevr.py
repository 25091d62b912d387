"""CLEVR-like ray caster (clevr_render) and the procedural_clevr TFDS builder."""

import dataclasses

import numpy as np
import pytest
import tensorflow_datasets as tfds

from slot_jax.data.procedural import builders
from slot_jax.data.procedural import clevr_render as cr
from slot_jax.data.procedural.base import sized_config

W, H = 80, 60  # small renders keep the tests fast
PER_OBJECT = ("shape", "color", "material", "size", "rotation", "coords", "extent")


def _subset(scene: cr.Scene, keep: list[int]) -> cr.Scene:
    return dataclasses.replace(scene, **{k: getattr(scene, k)[keep] for k in PER_OBJECT})


def _single(shape: int, material: int, color: int = 1, size: int = 1) -> cr.Scene:
    """One object at the origin under the un-jittered camera and lights."""
    r = cr.SIZE_VALUES[size] / (np.sqrt(2) if shape == cr.CUBE else 1)
    return cr.Scene(
        shape=np.array([shape]), color=np.array([color]), material=np.array([material]),
        size=np.array([size]), rotation=np.array([30.0], np.float32),
        coords=np.array([[0, 0, r]], np.float32), extent=np.array([r], np.float32),
        camera=cr.CAMERA_POSITION.copy(),
        lights=(cr.LIGHT_POSITIONS / np.linalg.norm(cr.LIGHT_POSITIONS, axis=1, keepdims=True)),
    )


def test_deterministic_by_seed():
    a = cr.generate_example(np.random.default_rng(3), W, H)
    b = cr.generate_example(np.random.default_rng(3), W, H)
    c = cr.generate_example(np.random.default_rng(4), W, H)
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(a["ids"], b["ids"])
    for key in a["objects"]:
        np.testing.assert_array_equal(a["objects"][key], b["objects"][key])
    assert not np.array_equal(a["image"], c["image"])


@pytest.mark.parametrize("seed", range(4))
def test_objects_visible_ids_exact_and_gapped(seed):
    ex = cr.generate_example(np.random.default_rng(seed), W, H, min_visible_pixels=12)
    objects, ids = ex["objects"], ex["ids"]
    n = len(objects["shape"])
    assert 3 <= n <= 10 and ex["image"].shape == (H, W, 3) and ids.shape == (H, W)
    assert set(np.unique(ids)) - {0} == set(range(1, n + 1))
    assert np.bincount(ids.ravel(), minlength=n + 1)[1:].min() >= 12
    xyz = objects["3d_coords"]
    radius = xyz[:, 2]  # objects rest on the floor: z is the half-extent
    np.testing.assert_allclose(radius, np.take(cr.SIZE_VALUES, objects["size"])
                               / np.where(objects["shape"] == cr.CUBE, np.sqrt(2), 1), rtol=1e-6)
    gap = np.linalg.norm(xyz[:, None, :2] - xyz[None, :, :2], axis=-1) - radius[:, None] - radius[None]
    assert (gap[~np.eye(n, dtype=bool)] >= 0.25 - 1e-5).all()
    assert np.abs(xyz[:, :2]).max() <= 3


def test_default_visibility_threshold_full_size():
    ex = cr.generate_example(np.random.default_rng(11))
    n = len(ex["objects"]["shape"])
    assert ex["image"].shape == (240, 320, 3) and ex["image"].dtype == np.uint8
    assert np.bincount(ex["ids"].ravel(), minlength=n + 1)[1:].min() >= 100


@pytest.mark.parametrize("seed", range(3))
def test_pixel_coords_inside_unoccluded_mask(seed):
    rng = np.random.default_rng(seed)
    scene = cr.sample_scene(rng, 5, 8)
    ids = cr.render(scene, W, H, supersample=1)["ids"]
    coords = cr.object_properties(scene, W, H)["pixel_coords"]
    checked = 0
    for i in range(scene.num_objects):
        alone = cr.render_ids(_subset(scene, [i]), W, H)[0] == 1
        assert ((ids == i + 1) <= alone).all()  # the visible mask lies inside the object's silhouette
        x, y, depth = coords[i]
        assert depth > 0
        if 0 <= x < W and 0 <= y < H:
            assert alone[int(y), int(x)], (i, x, y)
            checked += 1
    assert checked >= 3


def test_shadow_darkens_ground():
    scene = _single(cr.SPHERE, cr.RUBBER)
    key, centre = scene.lights[0], scene.coords[0]
    side = np.cross(key, [0, 0, 1]) / np.hypot(key[0], key[1])  # horizontal, perpendicular to the key
    inside = centre + 0.85 * centre[2] * side  # inside the sphere, near its rim as the light sees it
    shadowed = inside - key * inside[2] / key[2]  # on the shadow's edge the camera sees past the sphere
    lit = centre + 2.0 * np.array([key[0], key[1], 0]) / np.hypot(key[0], key[1])  # the light side
    lit[2] = 0
    points = np.stack([shadowed, lit]).astype(np.float32)
    t, idx = cr.trace(scene, points + 1e-3 * np.array([0, 0, 1], np.float32), key)
    assert idx.tolist() == [0, -1]  # the shadow ray is blocked by the sphere, the lit one is not
    out = cr.render(scene, 160, 120)
    px = cr.project(scene, points, 160, 120)
    (xs, ys), (xl, yl) = px[:, :2].astype(int)
    assert out["ids"][ys, xs] == 0 and out["ids"][yl, xl] == 0
    dark, bright = out["image"][ys, xs].astype(float), out["image"][yl, xl].astype(float)
    assert dark.mean() < 0.8 * bright.mean()
    assert np.ptp(dark) <= 2  # the floor stays gray


def _object_brightness(shape: int, material: int, color: int) -> np.ndarray:
    out = cr.render(_single(shape, material, color=color), 160, 120)
    return out["image"][out["ids"] == 1].astype(float).sum(-1)  # R + G + B per object pixel


@pytest.mark.parametrize("color", range(8))
def test_metal_sphere_has_brighter_highlight_than_rubber(color):
    rubber, metal = (_object_brightness(cr.SPHERE, m, color) for m in (cr.RUBBER, cr.METAL))
    assert metal.max() > rubber.max() + 100


@pytest.mark.parametrize("shape", [cr.CUBE, cr.CYLINDER])
def test_metal_faces_have_more_contrast_than_rubber(shape):
    for color in range(8):  # flat faces catch no point highlight; metal shows it by its reflections
        rubber, metal = (_object_brightness(shape, m, color) for m in (cr.RUBBER, cr.METAL))
        assert metal.std() > 1.5 * rubber.std() and metal.max() >= rubber.max()


def test_class_names_follow_tfds_clevr(tmp_path):
    info = builders.ProceduralClevr(config="clevr6", data_dir=tmp_path).info
    objects = info.features["objects"]
    colors = ["gray", "blue", "brown", "yellow", "red", "green", "purple", "cyan"]
    assert objects["color"].names == colors
    assert objects["material"].names == ["rubber", "metal"]
    assert objects["shape"].names == ["cube", "sphere", "cylinder"]
    assert objects["size"].names == ["small", "large"]
    assert builders.ProceduralClevr.builder_configs["clevr6"].max_objects == 6


def test_tfds_load_tiny_config(tmp_path):
    config = sized_config(builders.ProceduralClevr, "clevr6", num_train=2, num_eval=1)
    ds, info = tfds.load(
        "procedural_clevr", split="train", data_dir=tmp_path, builder_kwargs={"config": config},
        with_info=True,
    )
    assert info.splits["train"].num_examples == 2 and info.splits["test"].num_examples == 1
    for ex in tfds.as_numpy(ds):
        n = len(ex["objects"]["shape"])
        assert 3 <= n <= 6
        assert ex["image"].shape == (240, 320, 3) and ex["image"].dtype == np.uint8
        assert ex["ids"].shape == (240, 320, 1) and ex["ids"].dtype == np.uint8
        assert ex["objects"]["3d_coords"].shape == ex["objects"]["pixel_coords"].shape == (n, 3)
        assert ex["objects"]["rotation"].dtype == np.float32
        np.testing.assert_array_equal(
            np.bincount(ex["ids"].ravel(), minlength=n + 1)[1:], ex["objects"]["visible_pixels"]
        )
        assert ex["objects"]["visible_pixels"].min() >= 100
