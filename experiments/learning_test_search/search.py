"""Fast config search for the CPU learning test: sprites in memory, the library's model and step.

Renders a ``procedural_multi_dsprites`` config with its own generator (no TFDS), downsamples 2x2 by
averaging (what the input pipeline's bilinear resize does at exactly half size; ids take the
nearest pixel), trains with :func:`slot_jax.train.step.make_train_step` on batches drawn with
replacement, and prints held-out FG-ARI and ARI of the decoder masks every ``ee`` steps next to the
fixed-grid baseline. ``render`` (0: the config's own size) renders the scenes at that size first
(``ds=simple render=16`` draws ``simple`` natively at 16x16). Arguments are ``key=value``; see
``ARGS`` below. Example::

    taskset -c 0 python experiments/learning_test_search/search.py ds=clustered lr=2e-3 clip=1 seed=1
"""

import dataclasses
import math
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from slot_jax.builder import build_model, sprites_model_config
from slot_jax.config_base import base_config, data_config
from slot_jax.data.procedural.base import example_rng
from slot_jax.data.procedural.sprites import ProceduralMultiDsprites, generate_sprites
from slot_jax.metrics import adjusted_rand_index
from slot_jax.train.optim import make_optimizer, make_schedule
from slot_jax.train.state import create_state
from slot_jax.train.step import make_train_step

ARGS = dict(ds="clustered", render=0, size=16, ntrain=1024, K=4, slot=32, mlp=64, ech=16, dch=16, k=3,
            lr=1e-3, clip=0.0, warm=50, decay=3000, bs=32, steps=6000, ee=500, seed=0)


def render(config, split: str, n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` scenes -> float images ``[n, size, size, 3]`` in [-1, 1], int ids ``[n, size, size]``."""
    f = config.height // size
    images, ids = [], []
    for i in range(n):
        scene = generate_sprites(example_rng(config.seed, split, i), config)
        image = scene["image"].astype(np.float32) / 127.5 - 1.0
        images.append(image.reshape(size, f, size, f, 3).mean(axis=(1, 3)))
        ids.append(scene["ids"][f // 2 :: f, f // 2 :: f])
    return np.stack(images), np.stack(ids).astype(np.int32)


def grid(size: int, k: int) -> np.ndarray:
    rows = max(r for r in range(1, math.isqrt(k) + 1) if k % r == 0)
    cols = k // rows
    return (np.arange(size)[:, None] * rows // size) * cols + np.arange(size)[None] * cols // size


def main(a: dict) -> None:
    data_cfg = ProceduralMultiDsprites.builder_configs[a["ds"]]
    if a["render"]:
        data_cfg = dataclasses.replace(data_cfg, height=a["render"], width=a["render"])
    size, k = a["size"], a["K"]
    x_train, _ = render(data_cfg, "train", a["ntrain"], size)
    x_test, y_test = render(data_cfg, "test", 256, size)
    grid_fg = adjusted_rand_index(y_test, np.broadcast_to(grid(size, k), y_test.shape), True)
    m = sprites_model_config(num_slots=k, image_size=(size, size))
    m.slot_size, m.slot_attention.mlp_hidden_size = a["slot"], a["mlp"]
    m.encoder.features, m.encoder.strides = (a["ech"],) * 3, (1,) * 3
    m.encoder.kernel_size, m.encoder.mlp_features = a["k"], (32, 32)
    m.decoder.features, m.decoder.strides, m.decoder.kernel_size = (a["dch"],) * 2, (1,) * 2, a["k"]
    cfg = base_config(m, data_config(f"procedural_multi_dsprites/{a['ds']}", (size, size)))
    cfg.learning_rate, cfg.grad_clip_norm = a["lr"], a["clip"]
    cfg.warmup_steps, cfg.decay_steps = a["warm"], a["decay"]
    model, opt = build_model(cfg.model), make_optimizer(cfg)
    key = jax.random.PRNGKey(a["seed"])
    k1, k2 = jax.random.split(key)
    params = model.init(k1, jnp.zeros((1, size, size, 3)), jnp.zeros((1, k, m.slot_size)))["params"]
    state = create_state(params, opt, k2)
    step = jax.jit(make_train_step(model, opt, make_schedule(cfg)), donate_argnums=0)

    @jax.jit
    def segment(params, x, key):
        noise = jax.random.normal(key, (x.shape[0], k, m.slot_size))
        return jnp.argmax(model.apply({"params": params}, x, noise)["masks"][..., 0], axis=1)

    rng, start, curve = np.random.default_rng(a["seed"]), time.time(), []
    for s in range(1, a["steps"] + 1):
        batch = {"image": jnp.asarray(x_train[rng.integers(0, len(x_train), a["bs"])])}
        state, metrics = step(state, batch, jax.random.fold_in(key, s))
        if s % a["ee"] == 0:
            pred = np.concatenate([
                np.asarray(segment(state.params, x_test[i : i + 128], jax.random.PRNGKey(7)))
                for i in range(0, 256, 128)
            ])
            fg = float(np.mean(adjusted_rand_index(y_test, pred, ignore_background=True)))
            ari = float(np.mean(adjusted_rand_index(y_test, pred)))
            curve.append((s, round(fg, 3)))
            print(f"step {s} loss {float(metrics['loss']):.4f} fg_ari {fg:.3f} ari {ari:.3f} "
                  f"{time.time() - start:.0f}s", flush=True)
    print(f"grid FG-ARI {float(np.mean(grid_fg)):.3f}; FG-ARI curve {curve}")


if __name__ == "__main__":
    args = dict(ARGS)
    for item in sys.argv[1:]:
        name, value = item.split("=")
        args[name] = type(ARGS[name])(value) if name in ARGS else value
    main(args)
