"""Collapse diagnostics: slots used, duplicate slots, foreground shares, and the warning line."""

import jax.numpy as jnp
import numpy as np
import pytest

from slot_jax.evaluation.collapse import collapse_warning, foreground_usage, mask_usage
from slot_jax.evaluation.metrics import contingency_table, ids_from_masks


def _masks(assign: np.ndarray, k: int) -> jnp.ndarray:
    """Hard one-hot masks ``[1, K, H, W, 1]`` from an id map ``[H, W]``."""
    return jnp.asarray(np.eye(k, dtype=np.float32)[assign].transpose(2, 0, 1)[None, ..., None])


def test_slots_used_counts_slots_owning_pixels():
    assign = np.zeros((10, 10), int)
    assign[:5] = 1
    assign[0, 0] = 2  # 1% of the pixels: used
    masks = _masks(assign, 4)  # slot 3 owns nothing
    usage = mask_usage(masks, ids_from_masks(masks))
    assert float(usage["slots_used"][0]) == 3
    assert float(usage["duplicate_slots"][0]) == 0


def test_two_slots_sharing_one_region_are_duplicates():
    soft = np.zeros((1, 3, 4, 4, 1), np.float32)
    soft[0, 0, :2], soft[0, 1, :2] = 0.5, 0.5  # slots 0 and 1 split the top half evenly
    soft[0, 2, 2:] = 1.0
    masks = jnp.asarray(soft)
    usage = mask_usage(masks, ids_from_masks(masks))
    assert float(usage["slots_used"][0]) == 2  # argmax gives the tied top half to slot 0
    assert float(usage["duplicate_slots"][0]) == 2


def test_spare_slots_sharing_the_background_are_not_duplicates_on_the_foreground():
    soft = np.zeros((1, 4, 4, 4, 1), np.float32)
    soft[0, 2:, :2] = 0.5  # slots 2 and 3 split the background (top half) evenly
    soft[0, 0, 2:, :2], soft[0, 1, 2:, 2:] = 1.0, 1.0  # one object each
    foreground = np.zeros((1, 4, 4), bool)
    foreground[0, 2:] = True
    masks = jnp.asarray(soft)
    ids = ids_from_masks(masks)
    assert float(mask_usage(masks, ids)["duplicate_slots"][0]) == 2
    assert float(mask_usage(masks, ids, jnp.asarray(foreground))["duplicate_slots"][0]) == 0
    soft[0, :2, 2:] = 0.5  # slots 0 and 1 now smear over both objects
    masks = jnp.asarray(soft)
    usage = mask_usage(masks, ids_from_masks(masks), jnp.asarray(foreground))
    assert float(usage["duplicate_slots"][0]) == 2


def test_foreground_shares_of_a_merged_and_a_separated_segmentation():
    true = np.zeros((1, 4, 4), int)
    true[0, 0, :3], true[0, 3, :1] = 1, 2  # objects of 3 and 1 pixels: largest object 3/4
    merged = np.zeros((1, 4, 4), int)
    merged[0, 0, :3], merged[0, 3, :1] = 1, 1
    shares = foreground_usage(contingency_table(true, merged, 3, 3))
    assert float(shares["fg_largest_slot"][0]) == 1.0
    assert float(shares["fg_largest_object"][0]) == 0.75
    shares = foreground_usage(contingency_table(true, true, 3, 3))
    assert float(shares["fg_largest_slot"][0]) == 0.75


def _summary(**means):
    return {k: {"mean": v, "sem": 0.0, "num_images": 8} for k, v in means.items()}


@pytest.mark.parametrize("means, fires", [
    (dict(fg_largest_slot=0.95, fg_largest_object=0.55, duplicate_slots=0.1), True),
    (dict(fg_largest_slot=0.62, fg_largest_object=0.55, duplicate_slots=0.1), False),
    (dict(slots_used=4.0, duplicate_slots=2.1), True),  # no ground truth: duplicates only
    (dict(slots_used=4.0, duplicate_slots=1.5), False),
])
def test_collapse_warning_fires_on_collapse_only(means, fires):
    warning = collapse_warning(_summary(**means), num_slots=4)
    assert (warning is not None) == fires
    if fires:
        assert warning.startswith("Slots look collapsed:") and "\n" not in warning
