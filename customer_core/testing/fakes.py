"""Deterministic collaborators for tests."""

from __future__ import annotations

import threading

__all__ = ["FakeClock"]


class FakeClock:
    """A clock that stands still until told to move; pass it as ``clock=``.

    >>> clock = FakeClock(1_700_000_000)
    >>> clock(), clock.advance(5), clock()
    (1700000000, None, 1700000005)
    """

    def __init__(self, now: float = 1_700_000_000) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float = 1) -> None:
        """Move the clock forward by ``seconds``."""
        with self._lock:
            self._now += seconds

    def set(self, now: float) -> None:
        """Jump to ``now`` (backwards too: ids stay increasing regardless)."""
        self._now = now
