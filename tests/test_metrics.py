"""Metrics against sklearn, brute force and hand-made cases with known answers."""

import itertools

import jax
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from slot_jax.evaluation import metrics

STATIC = ("ignore_background", "num_true", "num_pred")
ari = jax.jit(metrics.adjusted_rand_index, static_argnames=STATIC)
mbo = jax.jit(metrics.mean_best_overlap, static_argnames=STATIC[1:])
miou = jax.jit(metrics.hungarian_miou, static_argnames=STATIC[1:])
seg = jax.jit(metrics.segmentation_metrics, static_argnames=("num_true",))

T, P = 8, 8  # static table sizes for the random batches


def random_batch(seed: int, batch: int = 20, size: int = 16, background: bool = False):
    """Id maps ``[batch, size, size]`` with a different number of clusters per case; predictions
    agree with the truth on a random fraction of pixels, so ARI spans ~0 to ~1."""
    rng = np.random.default_rng(seed)
    true, pred = [], []
    for _ in range(batch):
        t = rng.integers(0, rng.integers(1, T + 1), (size, size))
        if background:
            t = np.where(rng.random((size, size)) < rng.uniform(0.2, 0.8), 0, t)
        p = rng.integers(0, rng.integers(1, P + 1), (size, size))
        p = np.where(rng.random((size, size)) < rng.uniform(0, 1), t % P, p)
        true.append(t)
        pred.append(p)
    return np.stack(true).astype(np.int32), np.stack(pred).astype(np.int32)


def sklearn_ari(true, pred, valid=None):
    valid = np.ones(true.shape, bool) if valid is None else valid
    return np.array([adjusted_rand_score(t[v], p[v]) for t, p, v in zip(true, pred, valid, strict=True)])


@pytest.mark.parametrize("background", [False, True])
def test_ari_matches_sklearn(background):
    true, pred = random_batch(int(background), background=background)
    got = np.asarray(ari(true, pred, num_true=T, num_pred=P))
    np.testing.assert_allclose(got, sklearn_ari(true, pred), atol=1e-5)
    assert got.min() < 0.1 and got.max() > 0.5  # the cases span the range


def test_fg_ari_matches_sklearn_on_foreground():
    true, pred = random_batch(2, background=True)
    got = np.asarray(ari(true, pred, ignore_background=True, num_true=T, num_pred=P))
    np.testing.assert_allclose(got, sklearn_ari(true, pred, true != 0), atol=1e-5)


def test_ari_128x128_precision():
    rng = np.random.default_rng(3)
    true = rng.integers(0, 7, (3, 128, 128)).astype(np.int32)
    pred = np.where(
        rng.random(true.shape) < [[[0.0]], [[0.5]], [[0.95]]], true, rng.integers(0, 11, true.shape)
    )
    true[2] = 0  # one cluster vs. a prediction that is one segment except a single pixel: exactly 0
    pred[2] = 0
    pred[2, 5, 7] = 3
    got = np.asarray(ari(true, pred.astype(np.int32), num_true=T, num_pred=11))
    np.testing.assert_allclose(got, sklearn_ari(true, pred), atol=1e-6)
    assert got[2] == 0.0


def test_ari_label_permutation_invariance():
    true, pred = random_batch(4)
    perm_t, perm_p = np.random.default_rng(5).permutation(T), np.random.default_rng(6).permutation(P)
    base = ari(true, pred, num_true=T, num_pred=P)
    permuted = ari(perm_t[true], perm_p[pred], num_true=T, num_pred=P)
    np.testing.assert_allclose(permuted, base, atol=1e-6)


def edge_case_batch():
    """[5, 4, 4]: single object / all background / one predicted segment / unused slots / perfect."""
    true = np.zeros((5, 4, 4), np.int32)
    pred = np.zeros((5, 4, 4), np.int32)
    true[0, 1:3, 1:3] = 2  # a single foreground object, the whole image predicted as one segment
    true[2, :, 2:] = 1  # a prediction with one segment for two clusters
    true[3, :2] = 1  # slots 5 and 7 never used
    pred[3] = np.where(true[3] == 1, 7, 5)
    true[4, :, :2], pred[4, :, :2] = 3, 1  # perfect up to relabelling
    return true, pred


def test_ari_edge_cases():
    true, pred = edge_case_batch()
    full = np.asarray(ari(true, pred, num_true=T, num_pred=P))
    fg = np.asarray(ari(true, pred, ignore_background=True, num_true=T, num_pred=P))
    assert np.all(np.isfinite(full)) and np.all(np.isfinite(fg))
    np.testing.assert_allclose(full, sklearn_ari(true, pred), atol=1e-6)
    np.testing.assert_allclose(fg, [1.0, 1.0, 1.0, 1.0, 1.0], atol=1e-6)  # FG is one cluster each
    assert full[1] == 1.0 and full[2] == 0.0 and full[3] == 1.0


def test_ari_padding_mask():
    true, pred = random_batch(7, batch=4)
    example_mask = np.array([True, False, True, False])
    got = np.asarray(ari(true, pred, padding_mask=example_mask, num_true=T, num_pred=P))
    np.testing.assert_allclose(got[example_mask], sklearn_ari(true, pred)[example_mask], atol=1e-5)
    np.testing.assert_array_equal(got[~example_mask], 1.0)  # padded examples: finite
    pixel_mask = np.random.default_rng(8).random(true.shape) < 0.6
    got = np.asarray(ari(true, pred, padding_mask=pixel_mask, num_true=T, num_pred=P))
    np.testing.assert_allclose(got, sklearn_ari(true, pred, pixel_mask), atol=1e-5)
    one_pixel = np.zeros(true.shape, bool)
    one_pixel[:, 0, 0] = True
    np.testing.assert_array_equal(ari(true, pred, padding_mask=one_pixel, num_true=T, num_pred=P), 1.0)


def test_size_must_be_static_under_jit():
    true, pred = random_batch(9, batch=2)
    with pytest.raises(ValueError, match="num_true"):
        jax.jit(metrics.adjusted_rand_index)(true, pred)
    # Outside jit the sizes are read from the data.
    np.testing.assert_allclose(
        metrics.adjusted_rand_index(true, pred), sklearn_ari(true, pred), atol=1e-5
    )


def hand_made_overlaps():
    """Flat id maps [3, 20]: perfect; one object split in halves; Hungarian beats greedy."""
    true = np.zeros((3, 20), np.int32)
    pred = np.zeros((3, 20), np.int32)
    true[0, :8], true[0, 8:14] = 1, 2
    pred[0] = np.array([3, 1, 2])[true[0]]
    true[1, :10] = 1
    pred[1, :5], pred[1, 5:10], pred[1, 10:] = 1, 2, 0
    # Object 1: 10 px, 6 in segment 0 and 4 in segment 1; object 2: 4 px, all in segment 0.
    # IoU = [[6/14, 4/10], [4/10, 0]]: greedy takes 6/14 + 0, Hungarian 4/10 + 4/10.
    true[2, :10], true[2, 10:14] = 1, 2
    pred[2, :6], pred[2, 6:10], pred[2, 10:14], pred[2, 14:] = 0, 1, 0, 2
    return true, pred


def test_mbo_and_miou_hand_made():
    true, pred = hand_made_overlaps()
    np.testing.assert_allclose(
        mbo(true, pred, num_true=3, num_pred=4), [1.0, 0.5, (6 / 14 + 0.4) / 2], atol=1e-6
    )
    np.testing.assert_allclose(miou(true, pred, num_true=3, num_pred=4), [1.0, 0.5, 0.4], atol=1e-6)


def test_overlaps_without_objects_and_unmatched():
    true = np.zeros((2, 3, 4), np.int32)
    pred = np.zeros((2, 3, 4), np.int32)
    true[1, 0], true[1, 1], true[1, 2] = 1, 2, 3  # three objects, two predicted segments
    pred[1, :2] = 1
    np.testing.assert_allclose(
        mbo(true, pred, num_true=4, num_pred=2), [0.0, (0.5 + 0.5 + 1.0) / 3], atol=1e-6
    )
    np.testing.assert_allclose(
        miou(true, pred, num_true=4, num_pred=2), [0.0, (0.5 + 1.0 + 0.0) / 3], atol=1e-6
    )


def brute_force_miou(true, pred, num_true, num_pred):
    out = []
    for t, p in zip(true, pred, strict=True):
        iou = np.zeros((num_true - 1, max(num_true - 1, num_pred)))
        for i in range(1, num_true):
            for j in range(num_pred):
                union = np.sum((t == i) | (p == j))
                iou[i - 1, j] = np.sum((t == i) & (p == j)) / union if union else 0.0
        present = [np.any(t == i) for i in range(1, num_true)]
        best = max(
            iou[np.arange(num_true - 1), perm].sum()
            for perm in itertools.permutations(range(len(iou[0])), num_true - 1)
        )
        out.append(best / max(sum(present), 1))
    return np.array(out)


@pytest.mark.parametrize("num_true,num_pred", [(4, 5), (5, 3)])
def test_miou_matches_brute_force(num_true, num_pred):
    rng = np.random.default_rng(num_true)
    true = rng.integers(0, num_true, (12, 6, 6)).astype(np.int32)
    pred = np.where(rng.random(true.shape) < 0.6, true % num_pred, rng.integers(0, num_pred, true.shape))
    got = miou(true, pred.astype(np.int32), num_true=num_true, num_pred=num_pred)
    np.testing.assert_allclose(got, brute_force_miou(true, pred, num_true, num_pred), atol=1e-6)


def test_segmentation_metrics_from_masks():
    true, pred = random_batch(10, batch=4, background=True)
    masks = jax.nn.one_hot(pred, P, axis=1)[..., None] * 0.8 + 0.02  # [B, K, H, W, 1], argmax = pred
    out = seg(true, masks, num_true=T)
    np.testing.assert_array_equal(metrics.ids_from_masks(masks), pred)
    sizes = {"num_true": T, "num_pred": P}
    np.testing.assert_allclose(out["ari"], ari(true, pred, **sizes), atol=1e-6)
    np.testing.assert_allclose(
        out["fg_ari"], ari(true, pred, ignore_background=True, **sizes), atol=1e-6
    )
    np.testing.assert_allclose(out["mbo"], mbo(true, pred, **sizes), atol=1e-6)
    np.testing.assert_allclose(out["miou"], miou(true, pred, **sizes), atol=1e-6)
    expected_objects = [len(np.unique(t[t > 0])) for t in true]
    np.testing.assert_array_equal(out["num_objects"], expected_objects)
    assert all(v.shape == (4,) for v in out.values())
