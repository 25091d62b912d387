"""configs/learning_test.py with Invariant Slot Attention (translation + scale poses), for comparing
the two on the same data, model widths, schedule and budget::

    python -m slot_jax.seeds --config=configs/learning_test_isa.py --workdir=workdirs/lt_isa \\
        --seeds=0,1,2
"""

from slot_jax.config_base import learning_test_config
from slot_jax.models import invariant_model_config


def get_config():
    config = learning_test_config()
    config.model = invariant_model_config(config.model, "translation_scale")
    return config
