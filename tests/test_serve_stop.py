"""Stopping ``customer-core serve`` the usual ways closes the data file and prints no traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .cli_process import default_sigint, free_port, stop

API_KEY = "sk_test_stop"


def start_serve(data: Path, port: int) -> subprocess.Popen[bytes]:
    """``customer-core serve`` on ``data`` and ``port``, its stderr piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "customer_core.cli", "serve", "--api-key", API_KEY]
        + ["--port", str(port), "--db", str(data), "--log-level", "warning"],
        stderr=subprocess.PIPE,
        preexec_fn=default_sigint,
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
    ("stop_signal", "status"),
    [
        (signal.SIGTERM, -signal.SIGTERM),  # still dies of the signal, as its sender expects
        (signal.SIGINT, 130),  # Ctrl-C: the shell's status for it, quietly
    ],
)
def test_a_stopped_server_closes_its_data_file(
    tmp_path: Path, stop_signal: signal.Signals, status: int
) -> None:
    data = tmp_path / "customers.db"
    port = free_port()
    process = start_serve(data, port)
    try:
        _create_when_ready(port, process)
    finally:
        _, error = stop(process, stop_signal)
    assert process.returncode == status
    assert b"Traceback" not in error
    # SQLite removes the -wal file when the last connection closes (after a checkpoint).
    assert sorted(path.name for path in tmp_path.iterdir()) == ["customers.db"]
