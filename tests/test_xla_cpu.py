"""The command lines' XLA:CPU flags (``slot_jax.lib.xla_cpu``): added once, never over the user's."""

import os
import subprocess
import sys

from slot_jax.lib import xla_cpu

FLAG = xla_cpu.FLAGS[0]
NAME = FLAG.split("=")[0]


def test_flags_are_added_to_what_is_set():
    assert xla_cpu.with_flags("", "0.10.2") == FLAG
    assert xla_cpu.with_flags(" --xla_cpu_foo=1 ", "0.10.7") == f"--xla_cpu_foo=1 {FLAG}"


def test_the_users_value_of_the_same_flag_wins():
    mine = f"--xla_force_host_platform_device_count=2 {NAME}="
    assert xla_cpu.with_flags(mine, "0.10.2") == mine
    assert xla_cpu.with_flags(f"-{NAME[2:]}=+dot", "0.10.2") == f"-{NAME[2:]}=+dot"


def test_added_once():
    once = xla_cpu.with_flags("", "0.10.2")
    assert xla_cpu.with_flags(once, "0.10.2") == once


def test_an_unmeasured_jaxlib_goes_without():
    # XLA stops at start-up on a flag it does not know, so only measured versions get them
    assert xla_cpu.with_flags("--xla_cpu_foo=1", "0.11.0") == "--xla_cpu_foo=1"
    assert xla_cpu.with_flags("", "0.9.9") == ""


def test_a_command_line_process_starts_with_the_flags():
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    code = ("import os; from slot_jax.commands.startup import prepare_process; prepare_process(); "
            "import jax; "
            "jax.numpy.ones(2).block_until_ready(); "
            "print(os.environ['XLA_FLAGS'])")  # the flags parse: XLA stops on one it does not know
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == xla_cpu.with_flags("", xla_cpu.jaxlib_version())
