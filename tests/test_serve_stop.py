"""Stopping ``customer-core serve`` the usual ways closes the data file and prints no traceback."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

API_KEY = "sk_test_stop"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_serve(data: Path, port: int) -> subprocess.Popen[bytes]:
    """``customer-core serve`` on ``data`` and ``port``, its stderr piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "customer_core.cli", "serve", "--api-key", API_KEY]
        + ["--port", str(port), "--db", str(data), "--log-level", "warning"],
        stderr=subprocess.PIPE,
        # Ctrl-C's default action, even when the tests run in a background job (a shell
        # without job control starts those with SIGINT ignored, and the child inherits it).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _create_when_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/customers",
        data=b"email=jenny@example.com",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "serve exited early"
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize(
    ("stop", "status"),
    [
        (signal.SIGTERM, -signal.SIGTERM),  # still dies of the signal, as its sender expects
        (signal.SIGINT, 130),  # Ctrl-C: the shell's status for it, quietly
    ],
)
def test_a_stopped_server_closes_its_data_file(
    tmp_path: Path, stop: signal.Signals, status: int
) -> None:
    data = tmp_path / "customers.db"
    port = _free_port()
    process = start_serve(data, port)
    try:
        _create_when_ready(port, process)
        process.send_signal(stop)
        _, error = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == status
    assert b"Traceback" not in error
    # SQLite removes the -wal file when the last connection closes (after a checkpoint).
    assert sorted(path.name for path in tmp_path.iterdir()) == ["customers.db"]
