"""Config search for the CPU learning test: sprites rendered in memory (render=16 renders natively at 16x16, render=32 renders at 32x32 and averages down), the library's model and step, FG-ARI every ee steps. Arguments are key=value (see ARGS); one seed per process: taskset -c 0 python search.py render=16 seeds=1."""
import dataclasses, math, sys, time, json
import jax, jax.numpy as jnp, numpy as np
from slot_jax.builder import build_model, sprites_model_config
from slot_jax.config_base import base_config, data_config
from slot_jax.data.procedural.base import example_rng
from slot_jax.data.procedural.sprites import ProceduralMultiDsprites, generate_sprites
from slot_jax.metrics import adjusted_rand_index
from slot_jax.train.optim import make_optimizer, make_schedule
from slot_jax.train.state import create_state
from slot_jax.train.step import make_train_step

ARGS = dict(ds="clustered", render=32, size=16, ntrain=1024, neval=256, K=4, slot=32, mlp=64, ech=16, dch=16,
            nenc=3, ndec=2, k=3, lr=1e-3, clip=0.0, warm=50, decay=3000, bs=32, steps=3000, ee=500,
            seeds="0,1,2,3", iters=3, spread=-1.0, sf=-1.0, minobj=-1, maxobj=-1, emlp=32, init="gaussian",
            implicit=0, tag="", ek=-1, dk=-1, odk=3)

def render(config, split, n, size):
    f = config.height // size
    images, ids = [], []
    for i in range(n):
        scene = generate_sprites(example_rng(config.seed, split, i), config)
        image = scene["image"].astype(np.float32) / 127.5 - 1.0
        images.append(image.reshape(size, f, size, f, 3).mean(axis=(1, 3)))
        ids.append(scene["ids"][f // 2 :: f, f // 2 :: f])
    return np.stack(images), np.stack(ids).astype(np.int32)

def grid(size, k):
    rows = max(r for r in range(1, math.isqrt(k) + 1) if k % r == 0)
    cols = k // rows
    return (np.arange(size)[:, None] * rows // size) * cols + np.arange(size)[None] * cols // size

def main(a):
    over = {}
    if a["render"] > 0: over.update(height=a["render"], width=a["render"])
    if a["spread"] >= 0: over["cluster_spread"] = a["spread"]
    if a["sf"] > 0: over["size_factor"] = a["sf"]
    if a["minobj"] > 0: over["min_objects"] = a["minobj"]
    if a["maxobj"] > 0: over["max_objects"] = a["maxobj"]
    dc = dataclasses.replace(ProceduralMultiDsprites.builder_configs[a["ds"]], **over)
    size, k = a["size"], a["K"]
    t0 = time.time()
    x_train, _ = render(dc, "train", a["ntrain"], size)
    x_test, y_test = render(dc, "test", a["neval"], size)
    grid_fg = float(np.mean(adjusted_rand_index(y_test, np.broadcast_to(grid(size, k), y_test.shape), True)))
    print(f"render {time.time()-t0:.0f}s grid {grid_fg:.3f}", flush=True)
    m = sprites_model_config(num_slots=k, image_size=(size, size))
    m.slot_size, m.slot_attention.mlp_hidden_size = a["slot"], a["mlp"]
    m.slot_attention.num_iterations = a["iters"]
    m.slot_attention.implicit_grad = bool(a["implicit"])
    m.slot_init = a["init"]
    m.encoder.features, m.encoder.strides = (a["ech"],) * a["nenc"], (1,) * a["nenc"]
    m.encoder.kernel_size, m.encoder.mlp_features = (a["ek"] if a["ek"] > 0 else a["k"]), (a["emlp"], a["emlp"])
    m.decoder.features, m.decoder.strides, m.decoder.kernel_size = (a["dch"],) * a["ndec"], (1,) * a["ndec"], (a["dk"] if a["dk"] > 0 else a["k"])
    m.decoder.output_kernel_size = a["odk"]
    cfg = base_config(m, data_config(f"procedural_multi_dsprites/{a['ds']}", (size, size)))
    cfg.learning_rate, cfg.grad_clip_norm = a["lr"], a["clip"]
    cfg.warmup_steps, cfg.decay_steps = a["warm"], a["decay"]
    model, opt = build_model(cfg.model), make_optimizer(cfg)
    seeds = [int(s) for s in a["seeds"].split(",")]
    S = len(seeds)
    def init(seed):
        key = jax.random.PRNGKey(seed)
        k1, k2 = jax.random.split(key)
        params = model.init(k1, jnp.zeros((1, size, size, 3)), jnp.zeros((1, k, m.slot_size)))["params"]
        return create_state(params, opt, k2)
    state = jax.vmap(init)(jnp.array(seeds))
    raw = make_train_step(model, opt, make_schedule(cfg))
    step = jax.jit(jax.vmap(raw), donate_argnums=0)

    @jax.jit
    def segment(params, x, key):
        noise = jax.random.normal(key, (x.shape[0], k, m.slot_size))
        return jnp.argmax(model.apply({"params": params}, x, noise)["masks"][..., 0], axis=1)
    rngs = [np.random.default_rng(s) for s in seeds]
    keys = jnp.stack([jax.random.PRNGKey(1000 + s) for s in seeds])
    start, curves = time.time(), {s: [] for s in seeds}
    for s in range(1, a["steps"] + 1):
        idx = np.stack([r.integers(0, len(x_train), a["bs"]) for r in rngs])
        batch = {"image": jnp.asarray(x_train[idx])}
        state, metrics = step(state, batch, jax.vmap(lambda kk: jax.random.fold_in(kk, s))(keys))
        if s == 5: t5 = time.time()
        if s % a["ee"] == 0:
            line = [f"step {s} {time.time()-start:.0f}s ({(time.time()-t5)/(s-5):.3f}s/step)"]
            for j, sd in enumerate(seeds):
                p = jax.tree.map(lambda v: v[j], state.params)
                pred = np.concatenate([np.asarray(segment(p, x_test[i:i+128], jax.random.PRNGKey(7)))
                                       for i in range(0, len(x_test), 128)])
                fg = float(np.mean(adjusted_rand_index(y_test, pred, ignore_background=True)))
                curves[sd].append(round(fg, 3))
                line.append(f"s{sd}:{fg:.3f}/{float(metrics['loss'][j]):.4f}")
            print(" ".join(line), flush=True)
    from PIL import Image
    pal = np.array([[0,0,0],[255,0,0],[0,255,0],[0,0,255],[255,255,0],[255,0,255],[0,255,255]], np.uint8)
    p = jax.tree.map(lambda v: v[0], state.params)
    pred = np.asarray(segment(p, x_test[:16], jax.random.PRNGKey(7)))
    rows = [np.concatenate([((x_test[i] + 1) * 127.5).astype(np.uint8), pal[y_test[i] % 7], pal[pred[i] % 7]], 1) for i in range(16)]
    img = np.concatenate(rows, 0)
    Image.fromarray(img).resize((img.shape[1] * 6, img.shape[0] * 6), Image.NEAREST).save(f"logs/{a['tag'] or 'last'}_seg.png")
    print("RESULT", json.dumps(dict(args=a, grid=grid_fg, curves=curves)), flush=True)

if __name__ == "__main__":
    args = dict(ARGS)
    for item in sys.argv[1:]:
        name, value = item.split("=")
        args[name] = type(ARGS[name])(value)
    main(args)
