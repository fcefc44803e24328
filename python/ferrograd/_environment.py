"""Checks of the environment variables ferrograd reads, so that a typo is said, not ignored."""

from __future__ import annotations

import os
import warnings

NUM_THREADS_VARIABLE = "FERROGRAD_NUM_THREADS"
MAX_THREADS = 256


def check_num_threads_variable(threads_in_use: int) -> None:
    """Warns when ``FERROGRAD_NUM_THREADS`` is set to something the core ignores.

    Args:
        threads_in_use: the thread count the core chose instead (said in the warning).

    Examples:
        >>> check_num_threads_variable(2)  # silent when the variable is unset or valid
    """
    value = os.environ.get(NUM_THREADS_VARIABLE)
    if value is None:
        return
    try:
        count = int(value.strip())
    except ValueError:
        count = None
    if count is None or not 1 <= count <= MAX_THREADS:
        warnings.warn(
            f"{NUM_THREADS_VARIABLE}={value!r} is not a whole number from 1 to {MAX_THREADS}; "
            f"it is ignored and ferrograd uses {threads_in_use} threads",
            RuntimeWarning,
            stacklevel=3,
        )
