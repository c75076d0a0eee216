"""``serve --busy-timeout`` (and ``deliver``'s): how long a write waits behind another
process's write on the same SQLite file before it answers Stripe's 503."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from customer_core.cli import BUSY_TIMEOUT, main

from .cli_process import default_sigint, free_port, stop

API_KEY = "sk_test_busy"


def _create(port: int) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/customers",
        data=b"name=Jenny",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_write_held_up_past_the_busy_timeout_answers_503(tmp_path: Path) -> None:
    data = tmp_path / "customers.db"
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "customer_core.cli", "serve", "--api-key", API_KEY]
        + ["--port", str(port), "--db", str(data), "--busy-timeout", "0.3"]
        + ["--log-level", "warning"],
        stderr=subprocess.PIPE,
        preexec_fn=default_sigint,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "serve exited early"
            try:
                assert _create(port)[0] == 200
                break
            except OSError:
                assert time.monotonic() < deadline, "serve never answered"
                time.sleep(0.05)
        holder = sqlite3.connect(data, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another process's write, never finished
            started = time.monotonic()
            status, body = _create(port)
            waited = time.monotonic() - started
        finally:
            holder.close()
        assert status == 503
        # The client is not told where the data lives; the server's log says it all.
        assert body["error"] == {
            "message": "The service is unavailable right now (its store could not be reached "
            "or stayed busy); nothing was changed. Retry the request.",
            "type": "api_error",
        }
        assert waited < BUSY_TIMEOUT  # not the default's 30 s
        assert _create(port)[0] == 200  # the lock gone, writes go through again
    finally:
        _, log = stop(process)
    assert log is not None
    assert (
        f"The customer store {data} stayed locked by another writer for 0.3 s "
        "(busy_timeout); nothing was written, retry the request."
    ) in log.decode()


@pytest.mark.parametrize("command", ["serve", "deliver"])
@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("-1", "-1 is not a number of seconds from 0 up"),
        ("inf", "inf is not a number of seconds from 0 up"),
        ("soon", "invalid number of seconds: 'soon'"),
    ],
)
def test_a_busy_timeout_that_is_not_seconds_is_refused(
    command: str, given: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--busy-timeout", given])
    assert exited.value.code == 2
    assert f"argument --busy-timeout: {complaint}" in capsys.readouterr().err


def test_the_default_is_the_stores_own() -> None:
    assert BUSY_TIMEOUT == 30.0
