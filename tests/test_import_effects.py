"""Importing ``slot_jax`` changes nothing in the process; running a command line does, first thing.

In a fresh process, importing ``slot_jax`` and every one of its modules leaves the environment
(``XLA_FLAGS``, ``TF_CPP_MIN_LOG_LEVEL``, ``JAX_CPU_ENABLE_ASYNC_DISPATCH``, any other), JAX's config
(the CPU dispatch among it), the signal handlers, the exception hooks, absl's flags and log verbosity
as they were, and starts no JAX backend. ``slot_jax.models`` imports no TensorFlow, and neither do the
command lines' modules, so that their ``main()`` sets the process up before TensorFlow loads. Each
command line's ``main()`` calls :func:`slot_jax.commands.startup.prepare_process` before anything
else;
``tests/test_xla_cpu.py`` and ``tests/test_cpu_memory.py`` check what that applies.
"""

import importlib
import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

# ``python -m <entry file>``: the command whose ``main()`` it runs.
ENTRY_FILES = {
    "slot_jax.main": "slot_jax.commands.main",
    "slot_jax.convert": "slot_jax.commands.convert",
    "slot_jax.benchmark": "slot_jax.commands.benchmark",
    "slot_jax.seeds": "slot_jax.commands.seeds",
    "slot_jax.data.prepare": "slot_jax.commands.prepare",
}
# Modules whose import must not load TensorFlow: the models, and the command lines up to their
# ``main()`` (``slot_jax.data.prepare`` lives in ``data``, which registers its TFDS builders).
TF_FREE = ("slot_jax.models", "slot_jax.commands.cli", "slot_jax.commands.startup",
           *ENTRY_FILES.values(), *[name for name in ENTRY_FILES if ".data." not in name])

IMPORT_ALL = r"""
import importlib, importlib.util, json, logging, os, pkgutil, signal, sys

unset = [k for k in ("TF_CPP_MIN_LOG_LEVEL",) if k not in os.environ]


def third_party(*names):
    '''Imports ``names`` where installed, then unsets what they set of ``unset`` (JAX and
    TensorFlow default TF_CPP_MIN_LOG_LEVEL to 1), so that a module of ours setting it shows.'''
    for name in names:
        if importlib.util.find_spec(name):
            importlib.import_module(name)
    for key in unset:
        os.environ.pop(key, None)
    return dict(os.environ)


environ = third_party("jax", "flax.linen", "optax", "orbax.checkpoint")
import jax
from absl import flags, logging as absl_logging
from jax._src import xla_bridge

config = dict(jax.config.values)
signals = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)]
hooks = [sys.excepthook, sys.unraisablehook]
logs = [absl_logging.get_verbosity(), logging.getLogger().level, list(logging.getLogger().handlers)]
changed = lambda old, new: {k: [old.get(k), new.get(k)]
                            for k in set(old) | set(new) if old.get(k) != new.get(k)}
report = {"environ": {}}
for name in sys.argv[1:]:
    importlib.import_module(name)
    report.setdefault("tensorflow_after", {})[name] = "tensorflow" in sys.modules
report["environ"].update(changed(environ, dict(os.environ)))
environ = third_party("tensorflow", "tensorflow_datasets", "tensorboardX")
import slot_jax
names = [m.name for m in pkgutil.walk_packages(slot_jax.__path__, "slot_jax.")]
for name in names:
    importlib.import_module(name)
report["environ"].update(changed(environ, dict(os.environ)))
report.update(
    modules=len(names),
    config=changed(config, dict(jax.config.values)),
    backend_started=xla_bridge.backends_are_initialized(),
    signals=[signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)] != signals,
    hooks=[sys.excepthook, sys.unraisablehook] != hooks,
    logs=[absl_logging.get_verbosity(), logging.getLogger().level,
          list(logging.getLogger().handlers)] != logs,
    flags=sorted(m for m in flags.FLAGS.flags_by_module_dict() if m.startswith("slot_jax")),
)
print(json.dumps(report, default=repr))
"""


def test_importing_every_module_changes_nothing():
    unset = ("XLA_FLAGS", "TF_CPP_MIN_LOG_LEVEL", "JAX_CPU_ENABLE_ASYNC_DISPATCH")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", IMPORT_ALL, *TF_FREE], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["modules"] > 80, report  # the walk found the package
    assert report["tensorflow_after"] == dict.fromkeys(TF_FREE, False), report
    assert report["environ"] == {}  # XLA_FLAGS, TF_CPP_MIN_LOG_LEVEL and the rest
    assert report["config"] == {}  # jax_cpu_enable_async_dispatch and the rest
    assert not report["backend_started"], "a module starts a JAX backend when imported"
    assert not report["signals"] and not report["hooks"] and not report["logs"], report
    assert report["flags"] == [], "a module defines absl flags when imported"


class _Prepared(Exception):
    """Raised by the stand-in for :func:`slot_jax.commands.startup.prepare_process`."""


def _raise_prepared() -> None:
    raise _Prepared


@pytest.mark.parametrize("entry, command", ENTRY_FILES.items())
def test_each_command_prepares_the_process_first(entry, command, monkeypatch):
    """The entry file runs the command's ``main()``, which calls ``prepare_process`` before it
    defines a flag or imports anything more."""
    module = importlib.import_module(command)
    assert importlib.import_module(entry).main is module.main
    monkeypatch.setattr(module, "prepare_process", _raise_prepared)
    before = set(sys.modules)
    with pytest.raises(_Prepared):
        module.main()
    assert set(sys.modules) == before
