"""On ``PYTHONPATH``, makes ``import tensorflow`` (and TFDS) fail, as on a machine without them: the
dry runs of the GPU scripts check that training and benchmarking need neither."""

import sys

for _name in ("tensorflow", "tensorflow_datasets"):
    sys.modules[_name] = None  # an import of a None entry raises ImportError
