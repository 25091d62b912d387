"""Where the backend is chosen: each op with a CPU form picks it here, per platform, when the
program is lowered (``lax.platform_dependent``), so one traced function serves every backend and
``jax.export`` for another platform gets that platform's forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax


def by_platform(*args: Any, cpu: Callable[..., Any], default: Callable[..., Any]) -> Any:
    """``cpu(*args)`` in a program lowered for XLA:CPU, ``default(*args)`` on every other backend.
    Both are traced; they must return the same shapes and dtypes."""
    return jax.lax.platform_dependent(*args, cpu=cpu, default=default)
