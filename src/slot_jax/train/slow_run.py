"""The warning for a CPU-scale mistake: a run whose own ETA on CPU is more than a day.

The paper's configs train for 500k steps; on a laptop CPU that is weeks. The trainer times its
first :data:`TIMED_STEPS` steps after compilation and, when the ETA they give exceeds
:data:`SLOW_RUN_S` on the CPU backend, logs one line naming the quickstart instead.
"""

from __future__ import annotations

from slot_jax.lib.progress import format_eta

SLOW_RUN_S = 86_400.0
TIMED_STEPS = 5
QUICKSTART = "configs/quickstart.py"


def slow_run_warning(eta_s: float | None, platform: str, remaining_steps: int) -> str | None:
    """The warning line, or None when ``platform`` is not ``"cpu"`` or the ETA is a day or less."""
    if platform != "cpu" or eta_s is None or eta_s <= SLOW_RUN_S:
        return None
    return (
        f"at this speed the remaining {remaining_steps:,} steps take {format_eta(eta_s)} on this "
        "CPU: this config is a GPU/TPU job. To see Slot Attention discover objects on a CPU in "
        f"minutes, train --config={QUICKSTART} instead."
    )
