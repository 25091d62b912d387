"""Set prediction: the model, targets, the Hungarian Huber loss and CLEVR average precision."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_set_prediction_config

import slot_jax
from slot_jax.data.procedural import clevr_render
from slot_jax.data.targets import set_prediction_targets
from slot_jax.evaluation.set_metrics import ap_at_thresholds, average_precision
from slot_jax.lib.losses import hungarian_huber_loss, match, pairwise_huber_cost
from slot_jax.models import set_prediction_model_config
from slot_jax.properties import NUM_PROPERTIES, PROPERTY_SLICES

loss_and_grad = jax.jit(jax.value_and_grad(hungarian_huber_loss))


def huber(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    return np.where(a <= 1.0, 0.5 * x**2, a - 0.5)


def brute_force_loss(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean over examples of min over permutations of the summed mean-Huber costs."""
    k = pred.shape[1]
    per_example = []
    for p, t in zip(pred, target, strict=True):
        costs = [
            sum(huber(t[i] - p[perm[i]]).mean() for i in range(k))
            for perm in itertools.permutations(range(k))
        ]
        per_example.append(min(costs))
    return float(np.mean(per_example))


# ----------------------------------------------------------------------------------------- loss


def test_loss_equals_the_best_permutation():
    rng = np.random.default_rng(0)
    pred = rng.normal(size=(6, 4, NUM_PROPERTIES)).astype(np.float32) * 1.5  # both Huber regimes
    target = rng.normal(size=(6, 4, NUM_PROPERTIES)).astype(np.float32)
    loss, _ = loss_and_grad(pred, target)
    np.testing.assert_allclose(float(loss), brute_force_loss(pred, target), rtol=1e-5)
    # Permuting the predictions of each example does not change the loss.
    shuffled = np.stack([p[rng.permutation(4)] for p in pred])
    np.testing.assert_allclose(float(loss_and_grad(shuffled, target)[0]), float(loss), rtol=1e-5)


def test_match_is_an_optimal_assignment_for_rectangular_costs():
    cost = jnp.asarray(np.random.default_rng(1).uniform(size=(5, 3, 4)), jnp.float32)
    rows, cols = jax.jit(match)(cost)
    assert rows.shape == cols.shape == (5, 3)
    for c, r, j in zip(np.asarray(cost), np.asarray(rows), np.asarray(cols), strict=True):
        best = min(c[range(3), list(p)].sum() for p in itertools.permutations(range(4), 3))
        assert len(set(j)) == 3
        np.testing.assert_allclose(c[r, j].sum(), best, rtol=1e-6)


def test_loss_gradient_is_that_of_the_matched_pairs():
    rng = np.random.default_rng(2)
    pred = rng.uniform(size=(3, 4, NUM_PROPERTIES)).astype(np.float32)
    target = rng.uniform(size=(3, 4, NUM_PROPERTIES)).astype(np.float32)
    _, grad = loss_and_grad(pred, target)

    @jax.jit
    def fixed_matching_grad(p):  # the gradient with the matching held fixed
        rows, cols = match(pairwise_huber_cost(p, target))

        def loss(p):
            cost = pairwise_huber_cost(p, target)
            return jnp.mean(jnp.sum(cost[jnp.arange(3)[:, None], rows, cols], axis=-1))

        return jax.grad(loss)(p)

    assert float(jnp.abs(grad).min()) > 0  # every prediction is matched
    np.testing.assert_allclose(grad, fixed_matching_grad(pred), rtol=1e-5, atol=1e-8)


# ---------------------------------------------------------------------------------------- model


def test_model_outputs_and_gradients_reach_every_parameter():
    cfg = tiny_set_prediction_config()
    model = slot_jax.build_model(cfg)
    assert (model.slot_init.num_slots, model.slot_init.slot_size) == (3, 16)
    image = jax.random.uniform(jax.random.key(0), (2, 16, 16, 3), minval=-1, maxval=1)
    noise = jax.random.normal(jax.random.key(1), (2, 3, 16))
    target = np.zeros((2, 3, NUM_PROPERTIES), np.float32)
    target[:, 0] = np.random.default_rng(3).uniform(size=(2, NUM_PROPERTIES))

    @jax.jit
    def init_and_grad(key):  # one compilation for init, forward and backward
        def loss(params):
            out = model.apply({"params": params}, image, noise)
            return hungarian_huber_loss(out["predictions"], target), out

        params = model.init(key, image, noise)["params"]
        return jax.value_and_grad(loss, has_aux=True)(params)

    (_, out), grads = init_and_grad(jax.random.key(2))
    assert out["predictions"].shape == (2, 3, NUM_PROPERTIES)
    assert out["predictions"].dtype == jnp.float32
    assert float(out["predictions"].min()) > 0 and float(out["predictions"].max()) < 1
    assert out["slots"].shape == (2, 3, 16)
    assert out["attention"].shape == (2, 3, 8 * 8)  # one stride-2 conv: 16x16 -> 8x8
    np.testing.assert_allclose(out["attention"].sum(axis=1), 1.0, atol=1e-5)
    zero = [jax.tree_util.keystr(p) for p, g in jax.tree.leaves_with_path(grads) if not np.any(g)]
    assert not zero, f"no gradient reaches {zero}"


def test_paper_model_parameter_count():
    cfg = set_prediction_model_config()
    model = slot_jax.build_model(cfg)
    image = jax.ShapeDtypeStruct((1, 128, 128, 3), jnp.float32)
    shapes = jax.eval_shape(lambda x: model.init(jax.random.key(0), x)["params"], image)
    count = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(shapes))
    official, gru_bias_difference = 380_755, 2 * cfg.slot_size
    assert count == official - gru_bias_difference
    assert abs(count - official) / official < 0.01
    assert shapes["head"]["dense_1"]["kernel"].shape == (64, 19)


# -------------------------------------------------------------------------------------- targets


OBJECTS = {
    "3d_coords": [[-3.0, 0.0, 0.35], [1.5, -1.5, 0.7], [3.0, 3.0, 0.35]],
    "size": [0, 1, 0],
    "material": [1, 0, 1],
    "shape": [2, 0, 1],
    "color": [7, 0, 3],
}


def expected_targets(max_objects: int) -> np.ndarray:
    out = np.zeros((max_objects, 19), np.float32)
    for i in range(3):
        out[i, :3] = (np.asarray(OBJECTS["3d_coords"][i]) + 3) / 6
        out[i, 3 + OBJECTS["size"][i]] = 1
        out[i, 5 + OBJECTS["material"][i]] = 1
        out[i, 7 + OBJECTS["shape"][i]] = 1
        out[i, 10 + OBJECTS["color"][i]] = 1
        out[i, 18] = 1
    return out


def test_target_layout():
    objects = {k: tf.constant(v) for k, v in OBJECTS.items()}
    objects["pixel_coords"] = tf.zeros([3, 3])  # other features are ignored
    got = set_prediction_targets(objects, max_objects=5).numpy()
    assert got.dtype == np.float32 and got.shape == (5, 19)
    np.testing.assert_allclose(got, expected_targets(5), atol=1e-7)
    assert [PROPERTY_SLICES[n] for n in ("size", "color")] == [slice(3, 5), slice(10, 18)]


def test_targets_in_tf_data_from_padded_and_procedural_objects():
    padded = {k: np.pad(v, [(0, 7)] + [(0, 0)] * (np.ndim(v) - 1)) for k, v in OBJECTS.items()}
    padded["visibility"] = np.float32([1, 1, 1] + [0] * 7)  # zero-padded to 10 objects
    ds = tf.data.Dataset.from_tensors(padded).map(set_prediction_targets)
    np.testing.assert_allclose(next(iter(ds)).numpy(), expected_targets(10), atol=1e-7)

    scene = clevr_render.sample_scene(np.random.default_rng(0), 3, 10)
    objects = clevr_render.object_properties(scene)
    got = set_prediction_targets({k: tf.constant(v) for k, v in objects.items()}).numpy()
    n = len(objects["size"])
    assert np.all(got[n:] == 0) and np.all(got[:n, 18] == 1)
    np.testing.assert_allclose(got[:n, :3] * 6 - 3, objects["3d_coords"], atol=1e-5)
    np.testing.assert_array_equal(got[:n, 10:18].argmax(-1), objects["color"])

    with pytest.raises(tf.errors.InvalidArgumentError, match="more than 2 objects"):
        set_prediction_targets({k: tf.constant(v) for k, v in OBJECTS.items()}, max_objects=2)


# ------------------------------------------------------------------------------------------- AP


def random_targets(rng: np.random.Generator, images: int = 6, k: int = 5) -> np.ndarray:
    """Targets of random scenes with 1..k objects (coords in [0, 1], padding rows zero)."""
    out = np.zeros((images, k, 19), np.float32)
    for b in range(images):
        for i in range(rng.integers(1, k + 1)):
            out[b, i, :3] = rng.uniform(size=3)
            for sl in (slice(3, 5), slice(5, 7), slice(7, 10), slice(10, 18)):
                out[b, i, sl.start + rng.integers(sl.stop - sl.start)] = 1
            out[b, i, 18] = 1
    return out


def shuffled(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.stack([row[rng.permutation(len(row))] for row in x])


def test_ap_perfect_wrong_attribute_and_position_error():
    rng = np.random.default_rng(0)
    target = random_targets(rng)
    pred = shuffled(target, rng)
    assert ap_at_thresholds(pred, target) == pytest.approx(
        {"ap_inf": 1.0, "ap_1": 1.0, "ap_0.5": 1.0, "ap_0.25": 1.0, "ap_0.125": 1.0}
    )
    real = pred[..., 18] == 1
    wrong = pred.copy()
    wrong[real, 10:18] = np.roll(wrong[real, 10:18], 1, axis=-1)  # every colour wrong
    assert average_precision(wrong, target, -1) == 0.0
    moved = pred.copy()
    moved[real, 0] += 0.3 / 6  # 0.3 original units along x
    aps = ap_at_thresholds(moved, target)
    assert aps == pytest.approx(
        {"ap_inf": 1.0, "ap_1": 1.0, "ap_0.5": 1.0, "ap_0.25": 0.0, "ap_0.125": 0.0}
    )
    assert average_precision(moved, target, -1) == aps["ap_inf"]


def test_ap_duplicate_detection_is_a_false_positive():
    target = np.zeros((1, 3, 19), np.float32)
    target[0, :2, [3, 5, 7, 10]] = 1
    target[0, :2, 18] = 1
    target[0, 1, 0] = 0.5  # two identical-attribute objects, 3 units apart along x
    pred = target.copy()
    pred[0, 2] = target[0, 0]  # a second detection of object 0
    pred[0, :, 18] = [0.9, 0.7, 0.8]  # ranks: object 0, its duplicate, object 1
    # precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1: AP = 1/2 * 1 + 1/2 * 2/3.
    assert average_precision(pred, target, 1.0) == pytest.approx(0.5 + 1 / 3, abs=1e-6)


def reference_ap(pred: np.ndarray, target: np.ndarray, threshold: float) -> float:
    """A direct per-prediction loop of the same rules, for comparison."""
    flat = pred.reshape(-1, 19)
    order = np.argsort(flat[:, -1])[::-1]
    detected, tp = set(), []
    for idx in order:
        image, p = idx // pred.shape[1], flat[idx]
        best, best_id = np.inf, None
        for j, t in enumerate(target[image]):
            same = all(
                np.argmax(p[s]) == np.argmax(t[s])
                for s in (slice(3, 5), slice(5, 7), slice(7, 10), slice(10, 18))
            )
            d = np.linalg.norm((t[:3] - p[:3]) * 6)
            if t[18] and same and d < best:
                best, best_id = d, j
        ok = best_id is not None and (threshold == -1 or best < threshold)
        tp.append(ok and (image, best_id) not in detected)
        if ok:
            detected.add((image, best_id))
    tp = np.cumsum(tp)
    precision, recall = tp / np.arange(1, len(tp) + 1), tp / target[..., 18].sum()
    area, prev_recall = 0.0, 0.0
    for i, r in enumerate(recall):
        if r != prev_recall:
            area += precision[i:].max() * (r - prev_recall)
            prev_recall = r
    return area


@pytest.mark.parametrize("threshold", [-1, 1.0, 0.25])
def test_ap_matches_a_direct_loop_on_noisy_predictions(threshold):
    rng = np.random.default_rng(5)
    target = random_targets(rng, images=8)
    pred = shuffled(target, rng) + rng.normal(scale=0.05, size=target.shape).astype(np.float32)
    pred[..., 18] = rng.uniform(size=pred.shape[:2])
    pred[:, :, 10:18] += rng.normal(scale=0.4, size=(8, 5, 8))  # some colours flip
    expected = reference_ap(pred, target, threshold)
    assert 0 < expected < 1
    assert average_precision(pred, target, threshold) == pytest.approx(expected, abs=1e-6)
