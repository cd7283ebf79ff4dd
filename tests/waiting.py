"""Waiting on a condition with a bound, for the tests that drive a real worker or browser (no sleeps to
wait for work: STYLE.md)."""

import time


def wait_for(condition, seconds: float = 60.0, *, interval: float = 0.2) -> bool:
    """True as soon as ``condition()`` holds, False once ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
