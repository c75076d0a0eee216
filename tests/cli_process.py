"""Starting and stopping ``customer-core`` subprocesses in tests, the same way everywhere."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import AnyStr


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def default_sigint() -> None:
    """Give the child Ctrl-C's default action (``preexec_fn``).

    A shell without job control starts background jobs with SIGINT ignored, and a child
    inherits that: without this, a test run in the background could not stop its server.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop(
    process: subprocess.Popen[AnyStr], stop_signal: int = signal.SIGINT, timeout: float = 60
) -> tuple[AnyStr | None, AnyStr | None]:
    """Send ``stop_signal``, wait for the process to end and return its (stdout, stderr).

    A process still alive after ``timeout`` (or when waiting fails) is killed, so no test
    leaves a server behind.
    """
    try:
        process.send_signal(stop_signal)
        return process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie no one reaped yet counts: it holds nothing)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "\nState:\tZ" in status


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Wait until ``condition()`` is true; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(0.02)
