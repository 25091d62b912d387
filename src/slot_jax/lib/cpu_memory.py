"""Keeps freed host memory in the process when JAX computes on the CPU, so that the train step does
not fault in its temporaries afresh at every call; the command lines apply it.

XLA:CPU allocates a program's temporaries with ``malloc`` at every call and frees them after: 2.5 GB
for the CLEVR train step at batch 8. glibc's ``malloc`` serves allocations over 32 MiB with fresh
``mmap`` pages and unmaps them on ``free``, so each step faults in every page again: 630,000 page
faults and 1.2-2.0 s of system CPU time a step on a 2-core Intel Xeon VM (jax 0.10.2). :func:`apply`

* tells glibc to serve large allocations from its heap and never to give freed memory back to the
  system (``mallopt(M_MMAP_MAX, 0)``, ``mallopt(M_TRIM_THRESHOLD, -1)``); and
* turns JAX's asynchronous dispatch on CPU off, so that a program runs (and allocates) on the
  thread that calls it. That matters because glibc gives other threads arenas that cannot grow past
  64 MiB, which fall back to ``mmap`` whatever the settings.

The CLEVR step then took 5.0-5.3 s instead of 5.9-6.1 s, with under 1,500 page faults a step and the
same peak memory (3.9 GB); the sprites step 0.95 s instead of 1.11 s. ``experiments/benchmarks.md``
has the tables, and shows that either half alone changes nothing. What it costs: the process keeps
the memory of its largest step until it exits (it would need it again at the next step), and Python
no longer runs ahead of the CPU computation (the step uses every core anyway; tf.data prepares
batches on its own threads).

It changes nothing where JAX may compute on an accelerator (``JAX_PLATFORMS`` names another
platform first, or a JAX plugin or libtpu is installed), where ``JAX_CPU_ENABLE_ASYNC_DISPATCH`` is
set (yours wins), or without glibc. It must run before JAX starts its CPU backend, which reads the
dispatch setting once.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import platform
from collections.abc import Mapping
from importlib import metadata

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_MAX = -4
ASYNC_DISPATCH_ENV = "JAX_CPU_ENABLE_ASYNC_DISPATCH"


def accelerator_possible(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether JAX may pick a backend other than the CPU: ``JAX_PLATFORMS`` names another platform
    first, or (without ``JAX_PLATFORMS``) a JAX plugin or libtpu is installed."""
    platforms = environ.get("JAX_PLATFORMS", "").strip()
    if platforms:
        return platforms.split(",")[0].strip().lower() != "cpu"
    if metadata.entry_points(group="jax_plugins"):
        return True
    return any(importlib.util.find_spec(name) is not None for name in ("jax_plugins", "libtpu"))


def applies(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether :func:`apply` would change anything here (see the module docstring)."""
    return (
        platform.libc_ver()[0] == "glibc"
        and ASYNC_DISPATCH_ENV not in environ
        and not accelerator_possible(environ)
    )


def apply(environ: Mapping[str, str] = os.environ) -> bool:
    """Keeps freed memory in the process and runs CPU programs on the calling thread, where
    :func:`applies`; returns whether it did. Call it before JAX's first computation."""
    if not applies(environ):
        return False
    import jax

    libc = ctypes.CDLL("libc.so.6")
    if not (libc.mallopt(M_MMAP_MAX, 0) and libc.mallopt(M_TRIM_THRESHOLD, -1)):
        return False
    jax.config.update("jax_cpu_enable_async_dispatch", False)
    return True
