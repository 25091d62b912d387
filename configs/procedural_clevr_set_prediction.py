"""Set prediction on the CLEVR-like procedural scenes (3-10 objects): the paper's model, offline."""

import importlib.util
from pathlib import Path


def get_config():
    spec = importlib.util.spec_from_file_location(
        "clevr_set_prediction", Path(__file__).with_name("clevr_set_prediction.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config()
    config.data.name = "procedural_clevr"
    config.data.cache = True
    return config
