"""The ``customer_server`` fixture's server goes when pytest goes, even by ``kill -9``:
it watches its stdin, a pipe only pytest holds (``serve --watch-stdin``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from .cli_process import gone, wait_for

DEADLINE = 60.0
"""Seconds to wait for each step: generous, the machine is shared; never a fixed sleep."""

INNER_TEST = """
import os
import pathlib
import time


def test_holds_the_server(customer_server, _customer_server_process):
    pid = _customer_server_process._process.pid
    pathlib.Path("server.txt").write_text(f"{pid} {customer_server.base_url}")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # until the outer test kills this pytest
        time.sleep(0.05)
"""


def refused(base_url: str) -> bool:
    host, port = base_url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return True
    return False


def test_the_server_exits_when_pytest_is_killed(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    pytest_run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_inner.py"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server_pid = 0
    try:
        written = tmp_path / "server.txt"
        wait_for(lambda: written.exists() and written.read_text(), "the server to start", DEADLINE)
        pid_text, base_url = written.read_text().split()
        server_pid = int(pid_text)
        assert not gone(server_pid) and not refused(base_url)
        pytest_run.send_signal(signal.SIGKILL)
        pytest_run.wait(timeout=DEADLINE)
        wait_for(lambda: gone(server_pid), "the server to exit after pytest was killed", DEADLINE)
        assert refused(base_url)
    finally:
        if pytest_run.poll() is None:
            pytest_run.kill()
            pytest_run.wait(timeout=DEADLINE)
        if server_pid and not gone(server_pid):
            os.kill(server_pid, signal.SIGKILL)  # the fix failed: leave no orphan behind
