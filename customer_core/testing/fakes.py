"""Deterministic collaborators for tests."""

from __future__ import annotations

import math
import threading

__all__ = ["FakeClock"]


class FakeClock:
    """A clock that stands still until told to move; pass it as ``clock=``.

    >>> clock = FakeClock(1_700_000_000)
    >>> clock(), clock.advance(5), clock()
    (1700000000, None, 1700000005)
    """

    def __init__(self, now: float = 1_700_000_000) -> None:
        self._now = _seconds("now", now)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float = 1) -> None:
        """Move the clock forward by ``seconds``."""
        seconds = _seconds("seconds", seconds)
        with self._lock:
            self._now += seconds

    def set(self, now: float) -> None:
        """Jump to ``now`` (backwards too: ids stay increasing regardless)."""
        self._now = _seconds("now", now)


def _seconds(name: str, value: object) -> float:
    """``value`` if it is a finite number (a time or a step of the clock), else refused
    here, naming it, instead of failing in the service's first write."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"{name} must be a number of seconds, not {value!r}."
        raise TypeError(msg)
    if not math.isfinite(value):
        msg = f"{name} must be a finite number of seconds, not {value!r}."
        raise ValueError(msg)
    return value
