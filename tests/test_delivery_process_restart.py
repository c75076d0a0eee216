"""``DeliveryProcess`` replaces a child that died, says so, waits longer while children
die young, and starts none after ``stop()`` (trial 4, 2)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time

import pytest

from customer_core.events import process as process_module
from customer_core.events.process import DeliveryProcess

# A stand-in child: it lives until its stdin (the parent's pipe) closes.
WAITS_FOR_STDIN = [sys.executable, "-c", "import sys; sys.stdin.buffer.read()"]


def _wait_for(condition: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
        time.sleep(0.01)


def test_a_killed_child_is_replaced_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="customer_core.webhooks")
    children = DeliveryProcess(WAITS_FOR_STDIN, os.environ, stop_wait=1, restart_delay=0.05)
    children.start()
    first = children.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    _wait_for(lambda: children.pid != first, "a new child")
    assert children.restarts == 1
    messages = [record.getMessage() for record in caplog.records]
    assert (
        f"webhook delivery: the delivery process {first} ended (exit status -9); "
        "starting another in 0.05 s"
    ) in messages
    assert f"webhook delivery: delivering in process {children.pid}" in messages
    assert children.stop() == -signal.SIGTERM
    assert children.restarts == 1


def test_children_that_die_young_are_started_ever_later(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.WARNING, logger="customer_core.webhooks")
    monkeypatch.setattr(process_module, "MAX_RESTART_DELAY", 0.2)
    dies_at_once = [sys.executable, "-c", "raise SystemExit(3)"]
    children = DeliveryProcess(dies_at_once, os.environ, stop_wait=1, restart_delay=0.05)
    children.start()
    _wait_for(lambda: children.restarts >= 4, "four restarts")
    children.stop()
    delays = [
        record.getMessage().rsplit(" in ", 1)[1]
        for record in caplog.records
        if "ended (exit status 3)" in record.getMessage()
    ]
    assert delays[:4] == ["0.05 s", "0.1 s", "0.2 s", "0.2 s"]


def test_no_child_is_started_after_stop() -> None:
    children = DeliveryProcess(WAITS_FOR_STDIN, os.environ, stop_wait=1, restart_delay=0.01)
    children.start()
    first = children.pid
    children.stop()
    time.sleep(0.3)  # a watcher that raced stop() would have started one by now
    assert children.pid == first and children.restarts == 0
    assert children.start().pid == first  # stopped for good
