"""How a command line sets its process up: :func:`prepare_process`, the first thing each command's
``main()`` does. Importing this module (or any other of ``slot_jax``) changes nothing in the process.
"""

from __future__ import annotations

import os

from slot_jax.lib import cpu_memory, xla_cpu
from slot_jax.lib.quiet import import_quietly, installed, without_accelerators

# What TensorFlow's C++ logging shows unless the user set it: errors only.
TF_LOG_LEVEL = "2"


def prepare_process() -> None:
    """The process settings of a command line; its ``main()`` calls this first, before anything
    imports TensorFlow or starts a JAX backend (both read their settings once, as they start).

    * ``TF_CPP_MIN_LOG_LEVEL`` defaults to :data:`TF_LOG_LEVEL`;
    * :data:`slot_jax.lib.xla_cpu.FLAGS` join ``XLA_FLAGS`` (:func:`slot_jax.lib.xla_cpu.apply`);
    * where JAX computes on the CPU, freed memory stays in the process and programs run on the
      calling thread (:func:`slot_jax.lib.cpu_memory.apply`);
    * where it is installed, TensorFlow (tf.data only) is imported without its start-up notices and
      kept off the accelerators, which belong to JAX. That happens before ``app.run``, which calls
      TensorFlow's after-init hook: it counts the GPUs, and on a machine without one logs a CUDA
      error ahead of anything of ours.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_LOG_LEVEL)
    xla_cpu.apply()
    cpu_memory.apply()
    if installed("tensorflow"):
        import_quietly("tensorflow")
        import tensorflow as tf

        without_accelerators(tf)
