"""``slot_jax.lib.cpu_memory``: the command lines keep freed memory and run CPU programs on the
calling thread; nothing changes where an accelerator may compute or where the user chose."""

import os
import subprocess
import sys

import pytest

from slot_jax.lib import cpu_memory

CODE = ("from slot_jax.commands.startup import prepare_process; prepare_process(); import jax; "
        "jax.numpy.ones(2).block_until_ready(); "
        "print(jax.config.read('jax_cpu_enable_async_dispatch'))")


def _dispatch_in_a_command_line_process(**env: str) -> str:
    base = {k: v for k, v in os.environ.items()
            if k not in ("JAX_PLATFORMS", cpu_memory.ASYNC_DISPATCH_ENV)}
    return subprocess.run([sys.executable, "-c", CODE], env={**base, **env}, capture_output=True,
                          text=True, check=True).stdout.strip()


@pytest.mark.skipif(not cpu_memory.applies({}), reason="needs glibc and no JAX accelerator plugin")
def test_a_command_line_process_runs_cpu_programs_on_the_calling_thread():
    assert _dispatch_in_a_command_line_process() == "False"
    # the user's setting wins, and JAX reads it from the environment
    assert _dispatch_in_a_command_line_process(JAX_CPU_ENABLE_ASYNC_DISPATCH="true") == "True"


def test_only_where_jax_computes_on_the_cpu():
    assert not cpu_memory.accelerator_possible({"JAX_PLATFORMS": "cpu"})
    assert cpu_memory.accelerator_possible({"JAX_PLATFORMS": "cuda,cpu"})
    assert cpu_memory.accelerator_possible({"JAX_PLATFORMS": " TPU "})
    assert not cpu_memory.applies({"JAX_PLATFORMS": "tpu"})


def test_an_installed_plugin_means_an_accelerator_may_compute(monkeypatch):
    monkeypatch.setattr(cpu_memory.importlib.util, "find_spec",
                        lambda name: object() if name == "libtpu" else None)
    monkeypatch.setattr(cpu_memory.metadata, "entry_points", lambda group: [])
    assert cpu_memory.accelerator_possible({})
    monkeypatch.setattr(cpu_memory.importlib.util, "find_spec", lambda name: None)
    assert not cpu_memory.accelerator_possible({})
    monkeypatch.setattr(cpu_memory.metadata, "entry_points", lambda group: ["cuda12"])
    assert cpu_memory.accelerator_possible({})


def test_the_users_dispatch_setting_wins():
    env = {"JAX_PLATFORMS": "cpu", cpu_memory.ASYNC_DISPATCH_ENV: "true"}
    assert not cpu_memory.applies(env)
    assert not cpu_memory.apply(env)
