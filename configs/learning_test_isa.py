"""configs/learning_test.py with Invariant Slot Attention (translation + scale poses), for comparing
the two on the same data, model widths, schedule and budget::

    python -m slot_jax.seeds --config=configs/learning_test_isa.py --workdir=workdirs/lt_isa \\
        --seeds=0,1,2
"""

import importlib.util
from pathlib import Path

from slot_jax.models import invariant_model_config

_spec = importlib.util.spec_from_file_location(
    "learning_test", Path(__file__).with_name("learning_test.py")
)
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)


def get_config():
    config = _base.get_config()
    config.model = invariant_model_config(config.model, "translation_scale")
    return config
