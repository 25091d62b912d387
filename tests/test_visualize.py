"""Grid layout, palette and PNG round trip."""

import numpy as np
from PIL import Image

from slot_jax.evaluation.visualize import (
    colorize_ids,
    png_scale,
    save_png,
    segmentation_colors,
    slot_grid,
)


def random_outputs(batch=3, slots=5, height=12, width=20):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(batch, slots, height, width, 1))
    masks = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    rgb = rng.uniform(-1, 1, (batch, slots, height, width, 3))
    image = rng.uniform(-1, 1, (batch, height, width, 3))
    return image, (masks * rgb).sum(axis=1), masks, rgb


def test_grid_shape_without_and_with_attention():
    image, recon, masks, rgb = random_outputs()
    grid = slot_grid(image, recon, masks, rgb, num_images=2, separator=2)
    cols, groups = 3 + 5, 3
    assert grid.dtype == np.uint8
    assert grid.shape == (2 * 12 + 3 * 2, cols * 20 + (cols + 1 + 2 * (groups - 1)) * 2, 3)
    attention = np.random.default_rng(1).random((3, 5, 3 * 5))  # a 3x5 encoder grid
    grid = slot_grid(image, recon, masks, rgb, attention, num_images=4, separator=1)
    cols, groups = 3 + 2 * 5, 4
    assert grid.shape == (3 * 12 + 4 * 1, cols * 20 + (cols + 1 + 2 * (groups - 1)) * 1, 3)


def test_input_cell_and_attention_upsampling():
    image, recon, masks, rgb = random_outputs(batch=1, slots=2, height=4, width=4)
    attention = np.zeros((1, 2, 4))  # 2x2 grid, one hot cell per slot
    attention[0, 0, 0] = attention[0, 1, 3] = 1.0
    grid = slot_grid(image, recon, masks, rgb, attention, separator=1)
    expected_input = np.round((image[0] + 1) / 2 * 255).astype(np.uint8)
    np.testing.assert_array_equal(grid[1:5, 1:5], expected_input)
    first_attention = grid[1:5, -2 * 5 : -2 * 5 + 4]  # slot 0: top-left 2x2 block in its colour
    np.testing.assert_array_equal(
        first_attention[:2, :2], np.broadcast_to(segmentation_colors(2)[0], (2, 2, 3))
    )
    np.testing.assert_array_equal(first_attention[2:, 2:], 0)


def test_segmentation_colors_distinct():
    for k in (1, 7, 11, 20, 40):
        colors = segmentation_colors(k)
        assert colors.shape == (k, 3) and colors.dtype == np.uint8
        assert len(np.unique(colors, axis=0)) == k
    colors = segmentation_colors(11).astype(float)
    distances = np.linalg.norm(colors[:, None] - colors[None], axis=-1) + 1e9 * np.eye(11)
    assert distances.min() > 40
    np.testing.assert_array_equal(colorize_ids(np.array([[0, 2]])), segmentation_colors(3)[[[0, 2]]])


def test_png_round_trip(tmp_path):
    array = np.random.default_rng(2).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    path = tmp_path / "sub" / "grid.png"
    save_png(array, path)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), array)


def test_png_scale_enlarges_small_images_by_whole_pixels(tmp_path):
    assert [png_scale(h) for h in (16, 32, 35, 64, 128, 200)] == [8, 4, 3, 2, 1, 1]
    array = np.random.default_rng(3).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    save_png(array, tmp_path / "big.png", scale=3)
    big = np.asarray(Image.open(tmp_path / "big.png"))
    assert big.shape == (15, 18, 3)
    np.testing.assert_array_equal(big[::3, ::3], array)
    np.testing.assert_array_equal(big[2::3, 2::3], array)
