"""The learning test's config: a small Slot Attention autoencoder that binds slots to objects on CPU.

Data: procedural Multi-dSprites ``clustered`` (16x16, rendered at that size; 2-3 small sprites on
black in a tight cluster at a random spot), 1,024 training and 256 held-out images. A fixed 2x2
grid of K = 4 blocks scores FG-ARI 0.28 there, so the slots have to follow objects, not regions.

Model: the paper's sprites architecture scaled down (3 x Conv(16, 3x3) encoder, 2 x Conv(16, 3x3)
decoder, 16x16 broadcast) with the paper's slot size 64 and MLP 128, K = 4, 3 iterations.

Schedule: ISA/SAVi's, not the paper's: lr 1e-3 (paper 4e-4) with a linear warm-up over the first
25% of the run, cosine decay to 0, global-norm clip 0.05, batch 32, 6,000 steps.

``tests/test_learning.py`` trains two seeds of it (``config.learning_test_seeds``) in parallel,
one per CPU core, and checks held-out FG-ARI against trivial segmentations. By hand::

    python -m slot_jax.main --config=configs/learning_test.py --workdir=workdirs/learning_test \\
        --config.seed=3

``experiments/learning_test/README.md`` has the measured runs.
"""

from slot_jax.config_base import base_config, data_config
from slot_jax.models import sprites_model_config

IMAGE_SIZE = (16, 16)
STEPS = 6_000


def get_config():
    data = data_config("procedural_multi_dsprites/clustered", IMAGE_SIZE)
    data.num_train = 1024
    data.num_eval = 256
    model = sprites_model_config(num_slots=4, image_size=IMAGE_SIZE)
    model.encoder.features = (16, 16, 16)
    model.encoder.strides = (1, 1, 1)
    model.encoder.kernel_size = 3
    model.encoder.mlp_features = (32, 32)
    model.decoder.features = (16, 16)
    model.decoder.strides = (1, 1)
    model.decoder.kernel_size = 3
    config = base_config(model, data)
    config.seed = 0
    config.learning_test_seeds = (0, 1)
    config.batch_size = 32
    config.num_train_steps = STEPS
    config.learning_rate = 1e-3
    config.schedule = "warmup_cosine"
    config.warmup_steps = STEPS // 4
    config.grad_clip_norm = 0.05
    config.log_every = 500
    config.image_log_every = 0
    config.checkpoint_every = STEPS
    config.eval_every = 1_000
    config.eval_batch_size = 128
    return config
