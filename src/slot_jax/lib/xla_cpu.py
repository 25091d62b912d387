"""XLA:CPU settings that make the train step faster on CPU; the command lines apply them.

jaxlib 0.10's XLA:CPU hands two kinds of op to YNNPACK by default (its "YNN fusions") that are slow
in this model's train step. :data:`FLAGS` removes those two fusion types and keeps XLA's other
defaults (the ``-`` form of the flag); the results agree to float rounding.

* ``reduce``: the model's many small reductions (LayerNorm statistics, the sum over slots in the
  alpha compositing). On a 2-core AMD EPYC VM (jax 0.10.2, one core), the learning-test step took
  67 ms with them and 51 ms without.
* ``individual_convolution``: YNN's convolutions compute the kernel gradient of a large convolution
  several times slower than XLA's own. On a 2-core Intel Xeon VM (jax 0.10.2, both cores), the
  kernel gradient of the CLEVR decoder's 5x5 64->64 convolution at 128 px, 56 images, took 7.3 s
  with them and 1.0 s without. The CLEVR train step went from 9.8 to 6.8 s (with the CPU-only
  kernel gradient that this made slower than XLA's own removed).

``experiments/benchmarks.md`` has the whole train steps.

:func:`apply` adds :data:`FLAGS` to ``XLA_FLAGS``. It must run before JAX's first computation,
because XLA reads ``XLA_FLAGS`` once, when it starts a backend. Every command line's ``main()``
calls it first (:func:`slot_jax.commands.startup.prepare_process`), so every
``python -m slot_jax.<command>`` gets the flags; a notebook or script that trains on CPU can call
it before anything else touches JAX. Accelerators ignore ``xla_cpu_*`` flags.

It changes nothing when:

* ``XLA_FLAGS`` already sets the same flag: yours wins. For example,
  ``XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=+reduce`` keeps XLA's default (an empty value
  would turn every YNN fusion off);
* the installed jaxlib is not one of :data:`MEASURED_ON`. These flags are experimental, and XLA
  stops at start-up on a flag it does not know, so a jaxlib they were not measured on goes without.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from importlib import metadata

FLAGS = ("--xla_cpu_experimental_ynn_fusion_type=-reduce,-individual_convolution",)
MEASURED_ON = ("0.10",)  # jaxlib major.minor versions on which FLAGS were measured


def _name(flag: str) -> str:
    return flag.split("=", 1)[0].lstrip("-")


def with_flags(xla_flags: str, jaxlib_version: str) -> str:
    """``xla_flags`` with each of :data:`FLAGS` that it does not set already appended, on a
    jaxlib of :data:`MEASURED_ON`; else ``xla_flags`` unchanged."""
    if ".".join(jaxlib_version.split(".")[:2]) not in MEASURED_ON:
        return xla_flags
    present = {_name(f) for f in re.findall(r"--?[\w]+", xla_flags)}
    extra = [flag for flag in FLAGS if _name(flag) not in present]
    return " ".join([xla_flags.strip(), *extra]).strip()


def jaxlib_version() -> str:
    """The installed jaxlib's version (``""`` without one), read without importing it."""
    try:
        return metadata.version("jaxlib")
    except metadata.PackageNotFoundError:
        return ""


def apply(environ: MutableMapping[str, str] = os.environ) -> str:
    """Sets ``environ["XLA_FLAGS"]`` to :func:`with_flags` of it and returns the new value. Call
    it before JAX's first computation (see the module docstring)."""
    value = with_flags(environ.get("XLA_FLAGS", ""), jaxlib_version())
    if value:
        environ["XLA_FLAGS"] = value
    return value
