"""What a compiled step does that wastes accelerator time, read off XLA's HLO text.

:func:`audit_hlo` counts, in a compiled program's ``as_text()`` (after XLA's optimisations, on
whichever backend compiled it):

* ``host_transfers``: infeed, outfeed, send and recv, and custom calls into Python or the host
  (``jax.pure_callback``, ``jax.debug.print``...): each is a round-trip inside the step;
* ``transposes`` and ``copies``: data movement, e.g. layout changes between convolutions;
* ``convolutions`` and ``matmuls``: by result dtype (``{"bf16": n, "f32": m}``), whether as HLO ops
  or as library calls (cuDNN, cuBLAS);
* ``aliased_outputs``: the outputs that reuse a donated input's buffer (``input_output_alias``).

:func:`audit_stablehlo` reads the lowered (pre-optimisation) StableHLO text instead, as
``jax.export`` gives it for any platform without that platform's device, so the GPU lowering can
be checked on a CPU-only machine.
"""

from __future__ import annotations

import collections
import re

_HLO_OP = re.compile(r"^\s*(?:ROOT\s+)?%?[\w.\-]+\s*=\s*(\([^=]*?\)|\S+)\s+([a-z][a-z0-9\-]*)\(")
_TARGET = re.compile(r'custom_call_target="([^"]+)"')
_DTYPE = re.compile(r"([a-z]+[0-9]*)\[")
_HOST_OPS = ("infeed", "outfeed", "send", "recv", "send-done", "recv-done")
_HOST_TARGETS = ("callback", "host")
_CONV_TARGETS = ("conv",)
_MATMUL_TARGETS = ("gemm", "matmul")


def _dtype(shape: str) -> str:
    match = _DTYPE.search(shape)
    return match.group(1) if match else "?"


def hlo_ops(text: str) -> list[tuple[str, str, str]]:
    """``(opcode, result dtype, custom-call target or "")`` of every instruction in ``text``."""
    ops = []
    for line in text.splitlines():
        match = _HLO_OP.match(line)
        if match:
            target = _TARGET.search(line)
            ops.append((match.group(2), _dtype(match.group(1)), target.group(1) if target else ""))
    return ops


def _aliases(text: str) -> int:
    header = next((line for line in text.splitlines() if line.startswith("HloModule")), "")
    return header.count("may-alias") + header.count("must-alias")


def audit_hlo(text: str) -> dict:
    """The counts of the module docstring for a compiled program's HLO text."""
    convs: collections.Counter = collections.Counter()
    matmuls: collections.Counter = collections.Counter()
    counts = collections.Counter(host_transfers=0, transposes=0, copies=0)
    for opcode, dtype, target in hlo_ops(text):
        lower = target.lower()
        if opcode in _HOST_OPS or any(t in lower for t in _HOST_TARGETS):
            counts["host_transfers"] += 1
        elif opcode == "transpose":
            counts["transposes"] += 1
        elif opcode == "copy":
            counts["copies"] += 1
        elif opcode == "convolution" or any(t in lower for t in _CONV_TARGETS):
            convs[dtype] += 1
        elif opcode == "dot" or any(t in lower for t in _MATMUL_TARGETS):
            matmuls[dtype] += 1
    return {**counts, "convolutions": dict(convs), "matmuls": dict(matmuls),
            "aliased_outputs": _aliases(text)}


_MLIR_OP = re.compile(r"stablehlo\.([a-z_]+)")
_MLIR_CONV = re.compile(r"stablehlo\.convolution\(.*->\s*tensor<[0-9x]*x([a-z]+[0-9]*)>")
_MLIR_DOT = re.compile(r"stablehlo\.dot_general\s.*->\s*tensor<[0-9x]*x([a-z]+[0-9]*)>")


def audit_stablehlo(text: str) -> dict:
    """Op counts (``ops``), convolution and matmul result dtypes, custom-call targets and the
    number of donated arguments (``tf.aliasing_output``) of a lowered module's StableHLO text."""
    return {
        "ops": dict(collections.Counter(_MLIR_OP.findall(text))),
        "convolutions": dict(collections.Counter(_MLIR_CONV.findall(text))),
        "matmuls": dict(collections.Counter(_MLIR_DOT.findall(text))),
        "custom_calls": sorted(set(re.findall(r"custom_call @([\w.$]+)", text))),
        "donated_arguments": len(re.findall(r"tf\.aliasing_output", text)),
    }
