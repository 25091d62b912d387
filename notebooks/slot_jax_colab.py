# ---
# jupyter:
#   colab:
#     provenance: []
#     toc_visible: true
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: colab
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Slot Attention in JAX: train, inspect, checkpoint, embed
#
# This notebook walks through `slot_jax`, an implementation of Slot Attention
# ([Locatello et al., 2020](https://arxiv.org/abs/2006.15055)) in JAX and Flax:
#
# 1. install the package (Colab) or use the local checkout;
# 2. choose the size of the run in one parameter cell;
# 3. train an object-discovery autoencoder on procedural Multi-dSprites-like scenes, data parallel
#    over all devices;
# 4. plot the loss, look at the reconstructions and per-slot decodings, and compute the FG-ARI;
# 5. save and restore an orbax checkpoint;
# 6. use `slot_jax.SlotAttention` inside your own Flax module;
# 7. load a checkpoint of the official TF2 code;
# 8. train SAVi, Slot Attention for video, on moving sprites and look at its frame strip.
#
# The defaults are tiny, so the whole notebook runs on a CPU in a few minutes (the test suite
# executes it). The parameter cell gives the values for a real run on a TPU or a GPU. The data is
# generated on the fly, so nothing is downloaded.

# %% [markdown]
# ## 1. Install
#
# In Colab, set `REPO_URL` to the git URL of the `slot_jax` repository: the cell clones it (the
# configs live in the repository, next to the package) and installs it with pip. If pip upgrades
# `jax` in the process, restart the runtime (from the *Runtime* menu) and run the notebook
# again. Outside Colab the notebook uses the checkout it lives in: the package is normally
# installed already (`pip install -e .` in the repository root); otherwise the cell installs it.

# %%
# Each cell imports what it uses, after the code of earlier cells:
# ruff: noqa: E402
import os
import subprocess
import sys
from pathlib import Path

REPO_URL = "https://github.com/<org>/slot_jax"  # set this to the repository's URL in Colab

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quieter TensorFlow (the data pipeline)
IN_COLAB = "google.colab" in sys.modules


def find_checkout(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding the repository's configs."""
    return next(
        (p for p in (start, *start.parents) if (p / "configs" / "debug.py").is_file()), None
    )


if IN_COLAB:
    if "<org>" in REPO_URL:
        raise ValueError("Set REPO_URL to the git URL of the slot_jax repository first.")
    REPO_DIR = Path("/content/slot_jax")
    if not REPO_DIR.exists():
        subprocess.run(["git", "clone", "--depth=1", REPO_URL, str(REPO_DIR)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", str(REPO_DIR)], check=True)
else:
    REPO_DIR = find_checkout(Path.cwd())
    try:
        import slot_jax  # noqa: F401
    except ImportError:
        if REPO_DIR is None:
            raise
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "-e", str(REPO_DIR)], check=True
        )
        sys.path.insert(0, str(REPO_DIR / "src"))  # this kernel; new kernels find the install

# %% [markdown]
# JAX picks the accelerator by itself: a Colab TPU runtime shows 8 TPU cores on a TPU v2-8, a GPU
# runtime its GPU, and otherwise the CPU. On a CPU, the environment variable
# `XLA_FLAGS=--xla_force_host_platform_device_count=4` (set before JAX starts) splits the host into
# 4 devices, which is how the test suite runs this notebook, so the data-parallel code path is
# exercised even without an accelerator. `xla_cpu.apply()` adds the XLA:CPU flags that the command
# lines use (they make the train step faster on a CPU; accelerators ignore them). It must run before
# JAX's first computation.

# %%
import jax

import slot_jax
from slot_jax.lib import xla_cpu

xla_cpu.apply()

if REPO_DIR is None:  # e.g. started outside the checkout: use the one the package comes from
    REPO_DIR = find_checkout(Path(slot_jax.__file__).resolve().parent)
if REPO_DIR is None:
    raise FileNotFoundError("Start this notebook inside a checkout of the slot_jax repository.")

print(f"slot_jax {slot_jax.__version__}, JAX {jax.__version__}, repository {REPO_DIR}")
print(f"backend: {jax.default_backend()} ({jax.devices()[0].device_kind})")
print(f"{jax.device_count()} devices: {jax.devices()}")
if jax.default_backend() == "cpu" and "device_count" in os.environ.get("XLA_FLAGS", ""):
    print("(the host CPU is split into several devices by XLA_FLAGS)")

# %% [markdown]
# ## 2. Parameters
#
# All sizes are set in the next cell (tagged `parameters`, so papermill can override it). The
# defaults train a tiny model on 32x32 images for a few dozen steps: enough to run every cell, far
# from a trained model. For a real run on a TPU v2-8 or a GPU, use the values in the comment: the
# paper's sprites model on the 64x64 Multi-dSprites-like data. The paper trains it for 500k steps
# at batch size 64; the learning rate warm-up and decay come from the config.

# %% tags=["parameters"]
# CPU / CI sizes: the whole notebook runs in a few minutes.
# A real run on a TPU v2-8 or a GPU:
#   CONFIG = "procedural_multi_dsprites"; NUM_STEPS = 100_000; BATCH_SIZE = 64
#   IMAGE_SIZE = 64; NUM_TRAIN = 10_000; NUM_EVAL = 320
CONFIG = "debug"  # a file in configs/, without ".py"
NUM_STEPS = 40  # training steps
BATCH_SIZE = 16  # global batch, rounded up to a multiple of the device count
IMAGE_SIZE = 32  # images are IMAGE_SIZE x IMAGE_SIZE
NUM_TRAIN = 256  # generated training images
NUM_EVAL = 64  # generated held-out images (FG-ARI is computed on all of them)
NUM_VIDEO_STEPS = 30  # SAVi training steps in section 8 (configs/procedural_video_savi.py: 3k)
WORKDIR = None  # checkpoints and logs; None: a new temporary directory
DATA_DIR = None  # where the generated data is stored; None: inside WORKDIR

# %% [markdown]
# ## 3. Configure and train
#
# A config is an `ml_collections.ConfigDict` returned by `get_config()` in a file in `configs/`.
# We load one and set the sizes chosen above. The decoder of the sprites model broadcasts each
# slot to the full image size, so changing the image size means changing the broadcast size too.
#
# The trainer is data parallel over all devices: each step splits the global batch over the
# devices and averages the gradients. It therefore runs unchanged on a TPU v2-8 (8 devices), a
# multi-GPU machine, or a CPU. The global batch must be divisible by the number of devices,
# so the cell rounds `BATCH_SIZE` up to a multiple of `jax.device_count()`.

# %%
import math
import tempfile

from slot_jax.config_base import load_config


def round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


WORKDIR = WORKDIR or tempfile.mkdtemp(prefix="slot_jax_")
config = load_config(str(REPO_DIR / "configs" / f"{CONFIG}.py"))
config.data.data_dir = DATA_DIR or os.path.join(WORKDIR, "tensorflow_datasets")
config.data.num_train, config.data.num_eval = NUM_TRAIN, NUM_EVAL
config.data.image_size = config.model.image_size = (IMAGE_SIZE, IMAGE_SIZE)
upsampling = math.prod(config.model.decoder.strides)
config.model.decoder.broadcast_size = (IMAGE_SIZE // upsampling,) * 2
config.num_train_steps = NUM_STEPS
config.batch_size = round_up(BATCH_SIZE, jax.device_count())
config.eval_batch_size = round_up(config.eval_batch_size, jax.device_count())
config.log_every = max(1, min(config.log_every, NUM_STEPS // 40))  # enough points for a curve
config.checkpoint_every = min(config.checkpoint_every, NUM_STEPS)
config.eval_every = 0  # evaluated once, after training

print(f"workdir: {WORKDIR}")
print(f"data: {config.data.name}, {NUM_TRAIN} train / {NUM_EVAL} held-out images, "
      f"{IMAGE_SIZE}x{IMAGE_SIZE}")
print(f"model: {config.model.num_slots} slots of size {config.model.slot_size}")
per_device = config.batch_size // jax.device_count()
print(f"batch: {config.batch_size} = {jax.device_count()} devices x {per_device}")
print(f"steps: {config.num_train_steps}, logged every {config.log_every}, "
      f"checkpointed every {config.checkpoint_every}")

# %% [markdown]
# ### The data
#
# Procedural datasets are TFDS builders that `slot_jax.data` registers. `prepare_builder` generates
# the configured one on first use (the trainer would also do it) and reuses it afterwards. Each image
# comes with exact instance ids (0 is the background), which the metrics below compare with the
# slots. `eval_iterator` yields every held-out image exactly once, in batches of numpy arrays.

# %%
import matplotlib.pyplot as plt
import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from slot_jax.data import eval_iterator, prepare_builder
from slot_jax.evaluation.visualize import colorize_ids

logging.set_verbosity(logging.ERROR)  # the trainer logs progress at INFO; we print our own
tfds.disable_progress_bar()
plt.rcParams["figure.dpi"] = 80

builder = prepare_builder(config.data)
print({name: split.num_examples for name, split in builder.info.splits.items()})

batch = next(eval_iterator(config.data, global_batch_size=8))
print({k: (v.shape, v.dtype.name) for k, v in batch.items()})
fig, axes = plt.subplots(2, 8, figsize=(8, 2.2))
for i in range(8):
    axes[0, i].imshow((batch["image"][i] + 1) / 2)
    axes[1, i].imshow(colorize_ids(batch["ids"][i], num_colors=int(batch["ids"].max()) + 1))
for ax in axes.flat:
    ax.set_axis_off()
axes[0, 0].set_title("images", loc="left", fontsize=9)
axes[1, 0].set_title("instance ids", loc="left", fontsize=9)
plt.show()

# %% [markdown]
# `slot_jax.train.train(config, workdir)` generates the data on first use, builds the model,
# resumes from the latest checkpoint in `workdir` if there is one, and trains to
# `config.num_train_steps`. It writes TensorBoard events to `workdir/train` (loss, learning rate,
# gradient norm, steps/s, slot images) and orbax checkpoints to `workdir/checkpoints`, and returns
# the final `TrainState` (`step`, `params`, `opt_state`, `rng`). The optional
# `step_callback(step)` runs on the host after each step; here it prints the progress.

# %%
import time

from slot_jax.train import train

start = time.time()


def report(step: int) -> None:
    if step % max(1, NUM_STEPS // 5) == 0 or step == NUM_STEPS:
        print(f"step {step}/{NUM_STEPS}  {time.time() - start:6.1f} s")


state = train(config, WORKDIR, step_callback=report)
num_params = sum(x.size for x in jax.tree.leaves(state.params))
print(f"trained to step {int(state.step)} in {time.time() - start:.0f} s "
      f"(including data generation and compilation); {num_params:,} parameters")

# %% [markdown]
# ## 4. Results
#
# ### Loss curve
#
# The trainer logs to TensorBoard (`tensorboard --logdir WORKDIR`). The event files are plain
# TFRecords of `Event` protos, so we can also read them directly, without TensorBoard.

# %%
import glob

import tensorflow as tf


def read_scalars(logdir: str, tag: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of a scalar ``tag`` in the event files of ``logdir``."""
    points = {}
    for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))):
        for record in tf.data.TFRecordDataset(path):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.tag == tag:
                    points[event.step] = value.simple_value
    steps = np.array(sorted(points))
    return steps, np.array([points[s] for s in steps])


logdir = os.path.join(WORKDIR, "train")
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for ax, tag in zip(axes, ["loss", "learning_rate"], strict=True):
    steps, values = read_scalars(logdir, tag)
    ax.plot(steps, values, marker=".")
    ax.set(title=tag, xlabel="step")
axes[0].set(ylabel="reconstruction MSE", yscale="log")
fig.tight_layout()
plt.show()
steps, losses = read_scalars(logdir, "loss")
print(f"loss: {losses[0]:.4f} at step {steps[0]} -> {losses[-1]:.4f} at step {steps[-1]}")

# %% [markdown]
# ### Reconstructions and slots
#
# `slot_jax.evaluation.visualize.slot_grid` lays out one row per image: the input and the
# reconstruction, then each slot's decoding (its mask times its colours, on white), the segmentation
# (each pixel coloured by its most likely slot, over the input), and the last Slot Attention
# iteration's attention of each slot over the encoder positions. A slot has the same colour in the
# segmentation and in its attention map. We apply the trained model to the held-out images shown
# above.

# %%
from slot_jax.evaluation.visualize import slot_grid

model = slot_jax.build_model(config.model, config.dtype)
out = jax.jit(model.apply)(
    {"params": state.params}, batch["image"], rngs={"slots": jax.random.key(0)}
)
print({k: v.shape for k, v in out.items()})

grid = slot_grid(batch["image"], out["recon"], out["masks"], out["rgb"], out["attention"],
                 num_images=4)
k = config.model.num_slots
fig, ax = plt.subplots(figsize=(grid.shape[1] / 40, grid.shape[0] / 40))
ax.imshow(grid, interpolation="nearest")
ax.set_axis_off()
ax.set_title(f"input | recon || {k} slots || segmentation || {k} attention maps", fontsize=9)
plt.show()

# %% [markdown]
# ### FG-ARI
#
# `slot_jax.train.evaluate(config, workdir)` (what `--mode=eval` runs) restores the latest
# checkpoint and evaluates the whole held-out split once: the foreground adjusted Rand index
# (FG-ARI, the paper's metric), the ARI including the background, mean best overlap (mBO),
# Hungarian-matched mIoU and the reconstruction MSE, each as mean and standard error. It also writes
# `workdir/eval/metrics_<step>.json` and a slot grid `workdir/eval/slots_<step>.png`.
#
# With the CPU defaults the model has trained for a few dozen steps only, so the FG-ARI is close to
# chance. The paper reports an FG-ARI of 91.3 ± 0.3 (%) on Multi-dSprites after 500k steps.

# %%
from slot_jax.train import evaluate

result = evaluate(config, WORKDIR)
names = {"fg_ari": "FG-ARI", "ari": "ARI", "mbo": "mBO", "miou": "mIoU", "mse": "MSE"}
print(f"\nheld-out metrics at step {result['step']} ({result['path']}):")
for key, name in names.items():
    m = result["metrics"][key]
    print(f"  {name:7s} {m['mean']:.4f} ± {m['sem']:.4f}  ({m['num_images']} images)")

# %% [markdown]
# ## 5. Checkpoints
#
# The trainer saved orbax checkpoints in `WORKDIR/checkpoints` (every `config.checkpoint_every`
# steps and at the end, keeping the last `config.keep_checkpoints`). The helpers in
# `slot_jax.lib.checkpoint` open them: `make_manager` gives an orbax `CheckpointManager`, and
# `restore` reads a step (default: the latest) into the structure of a given state. The set-up the
# trainer builds from a config, `slot_jax.train.build_setup(config)`, gives that structure without
# allocating it (`abstract_state()`), so restoring needs nothing but the config. Running `train`
# again with the same workdir resumes from the latest checkpoint the same way.

# %%
from slot_jax.lib import checkpoint
from slot_jax.train import build_setup


def trees_equal(a, b) -> bool:
    leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
    return len(leaves_a) == len(leaves_b) and all(
        np.array_equal(x, y) for x, y in zip(leaves_a, leaves_b, strict=True)
    )


# The shapes and dtypes of a TrainState for this config, without allocating it.
abstract_state = build_setup(config).abstract_state()

manager = checkpoint.make_manager(WORKDIR, config.keep_checkpoints, read_only=True)
print(f"{manager.directory}: steps {manager.all_steps()}, latest {manager.latest_step()}")
restored = checkpoint.restore(manager, abstract_state)  # the latest step
manager.close()
print(f"restored step {int(restored.step)}; params equal the trained ones: "
      f"{trees_equal(restored.params, state.params)}")
assert trees_equal(restored.params, state.params)

# %% [markdown]
# Saving works the same way. `checkpoint.save` is asynchronous; `wait_until_finished()` blocks
# until the checkpoint is on disk. Here we save the trained state to a directory of its own and
# read it back.

# %%
export_dir = os.path.join(WORKDIR, "export")
manager = checkpoint.make_manager(export_dir, keep=1)
checkpoint.save(manager, int(state.step), state)
manager.wait_until_finished()
reloaded = checkpoint.restore(manager, abstract_state)
manager.close()
saved = checkpoint.checkpoint_dir(export_dir)
print(f"saved to {saved}: steps {sorted(os.listdir(saved))}")
print(f"the whole state round-trips: {trees_equal(reloaded, state)}")
assert trees_equal(reloaded, state)

# %% [markdown]
# ## 6. Slot Attention in your own Flax module
#
# `slot_jax.SlotAttention` is a plain `flax.linen` module: it maps inputs `[B, N, D_in]` and
# initial slots `[B, K, D]` to slots `[B, K, D]` and the attention `[B, K, N]`. Below, a small
# module encodes images into a grid of patch features with a position embedding, lets
# learned-Gaussian slots (`GaussianSlotInit`, which draws from the rng stream `"slots"`) attend
# over them, and scores each slot. We initialise it, jit it, and differentiate a stand-in loss
# through it. `examples/embed_slot_attention.py` does the same for point clouds.

# %%
import flax.linen as nn
import jax.numpy as jnp


class PatchSlots(nn.Module):
    """image [B, H, W, 3] -> (scores [B, K], slots [B, K, D], attention [B, K, N])."""

    num_slots: int = 4
    slot_size: int = 32
    patch: int = 4

    @nn.compact
    def __call__(self, image):
        x = nn.Conv(self.slot_size, (self.patch, self.patch), strides=self.patch)(image)
        x = slot_jax.SoftPositionEmbed()(nn.relu(x))  # [B, H/p, W/p, D]
        x = nn.LayerNorm()(x.reshape(x.shape[0], -1, x.shape[-1]))  # [B, N, D]
        slots = slot_jax.GaussianSlotInit(self.num_slots, self.slot_size)(x.shape[0])
        slots, attention = slot_jax.SlotAttention(num_iterations=3, mlp_hidden_size=64)(x, slots)
        return nn.Dense(1)(slots)[..., 0], slots, attention


images = jnp.asarray(batch["image"])  # held-out images from above
patch_model = PatchSlots()
params = patch_model.init(
    {"params": jax.random.key(0), "slots": jax.random.key(1)}, images
)["params"]
apply = jax.jit(patch_model.apply)
scores, slots, attention = apply({"params": params}, images, rngs={"slots": jax.random.key(2)})
print(f"images {images.shape} -> scores {scores.shape}, slots {slots.shape}, "
      f"attention {attention.shape}")


@jax.jit
def loss_and_grad(params, images, rng):
    def loss(p):
        scores, _, _ = patch_model.apply({"params": p}, images, rngs={"slots": rng})
        return jnp.mean(jax.nn.softplus(-scores))  # a stand-in objective

    return jax.value_and_grad(loss)(params)


loss, grads = loss_and_grad(params, images, jax.random.key(3))
grad_norm = float(jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree.leaves(grads))))
print(f"loss {float(loss):.4f}, gradient norm {grad_norm:.4f}, "
      f"{sum(p.size for p in jax.tree.leaves(params)):,} parameters")
print("SlotAttention parameters:", sorted(params["SlotAttention_0"]))

# %% [markdown]
# ## 7. The official TF2 checkpoints
#
# The official TF2 code published pretrained CLEVR checkpoints (object discovery and set
# prediction). The README shows how to fetch them with `gsutil`, convert them with
# `python -m slot_jax.convert` into a workdir of our trainer and evaluate them with `--mode=eval`.
# In Python, `slot_jax.tf_checkpoint.load_tf_params(path, config.model)` returns the Flax params
# for `build_model(config.model)`, and `slot_jax.train.convert_tf_checkpoint` writes the trainer's
# checkpoint.
#
# Nothing is downloaded here. Instead we build the official architecture in Keras
# (`slot_jax.testing.keras_model`, with the official code's layers and attribute names), shrunk to
# 32x32 images, keep its random initial weights, save it as the official `train.py` does, convert it
# and compare both models on one image with the same slot noise.

# %%
from slot_jax.testing import keras_model
from slot_jax.tf_checkpoint import load_tf_params, read_checkpoint

official = slot_jax.clevr_model_config(num_slots=4)  # the official CLEVR architecture, 32x32
official.image_size = (32, 32)
official.decoder.strides = (2, 2, 1, 1, 1)  # 8x8 broadcast -> 32x32
tf.keras.utils.set_random_seed(0)
keras_net = keras_model.build_model(official, batch_size=1)
optimizer = tf.keras.optimizers.Adam(4e-4, epsilon=1e-8)
optimizer.build(keras_net.trainable_variables)
tf_dir = os.path.join(WORKDIR, "official_tf")
ckpt = tf.train.Checkpoint(network=keras_net, optimizer=optimizer,
                           global_step=tf.Variable(1000, dtype=tf.int64))
tf.train.CheckpointManager(ckpt, tf_dir, max_to_keep=5).save()  # as the official train.py

source = read_checkpoint(tf_dir)
print(f"{source.path}: global step {source.global_step}, {len(source.variables)} variables, "
      f"e.g. {sorted(source.variables)[:3]}")
official_params = load_tf_params(tf_dir, official)

rng = np.random.default_rng(0)
image = rng.uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)
noise = rng.normal(size=(1, official.num_slots, official.slot_size)).astype(np.float32)
recon_tf, _, masks_tf, slots_tf = keras_net.layers[1](image, noise)
ours = slot_jax.build_model(official).apply({"params": official_params}, image, noise)
for name, ref in [("slots", slots_tf), ("masks", masks_tf), ("recon", recon_tf)]:
    print(f"{name}: max |JAX - Keras| = {np.abs(np.asarray(ours[name]) - ref.numpy()).max():.1e}")

# %% [markdown]
# ## 8. Video: SAVi
#
# `slot_jax.SAVi` carries Slot Attention over time (Kipf et al., 2022): the slots are initialised
# once, here from the first frame's box of each object (slot 0 takes the background), corrected on
# each frame by one Slot Attention iteration, and moved to the next frame by a transformer block.
# `configs/procedural_video_savi.py` trains it on procedural moving sprites; we shrink it as
# above and generate the videos in memory. Evaluation scores whole videos: FG-ARI pools the pixels
# of all frames, so a slot that switches objects costs score, and track consistency is the share
# of frames in which the slot given object i's box covers object i. It also writes a frame strip
# (a column per frame; rows: input, reconstruction, each slot, segmentation).

# %%
video_config = load_config(str(REPO_DIR / "configs" / "procedural_video_savi.py"))
video_config.data.source = "memory"  # generated in this process; no TFDS files
video_config.data.num_train, video_config.data.num_eval = 64, 16
video_config.num_train_steps = NUM_VIDEO_STEPS
video_config.batch_size = round_up(8, jax.device_count())
video_config.eval_batch_size = round_up(8, jax.device_count())
video_config.warmup_steps = min(video_config.warmup_steps, NUM_VIDEO_STEPS // 4)
video_config.checkpoint_every = NUM_VIDEO_STEPS
video_config.eval_every = 0
video_workdir = os.path.join(WORKDIR, "video")

start = time.time()
video_state = train(video_config, video_workdir)
print(f"SAVi trained to step {int(video_state.step)} in {time.time() - start:.0f} s")
video_result = evaluate(video_config, video_workdir)
for key, name in {"fg_ari": "video FG-ARI", "track_consistency": "track consistency"}.items():
    m = video_result["metrics"][key]
    print(f"  {name:18s} {m['mean']:.4f} ± {m['sem']:.4f}  ({m['num_images']} videos)")

strip = plt.imread(os.path.join(video_workdir, "eval", f"frames_{video_result['step']}.png"))
fig, ax = plt.subplots(figsize=(strip.shape[1] / 80, strip.shape[0] / 80))
ax.imshow(strip, interpolation="nearest")
ax.set_axis_off()
ax.set_title("frames -> | rows: input, recon, each slot, segmentation", fontsize=9)
plt.show()

# %% [markdown]
# ## Next steps
#
# The same run from the command line, plus evaluation and TensorBoard:
#
# ```bash
# CONFIG=configs/procedural_multi_dsprites.py WORKDIR=workdirs/multi_dsprites
# python -m slot_jax.main --config=$CONFIG --workdir=$WORKDIR               # train or resume
# python -m slot_jax.main --config=$CONFIG --workdir=$WORKDIR --mode=eval   # metrics and PNG
# tensorboard --logdir $WORKDIR
# ```
#
# Any config entry can be overridden on the command line (`--config.batch_size=128`,
# `--config.dtype=bfloat16`). The README lists the configs for CLEVR, Tetrominoes and
# set prediction, and how to prepare the TFDS and DeepMind datasets.
