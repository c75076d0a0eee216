"""A stopping server does not wait out SQLite's busy timeout: a write still waiting for
another process's write lock gives up (503, nothing written) once the server shuts down,
so ``customer-core serve`` exits at once; acknowledged writes are all in the file."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from customer_core import SQLiteStore, StoreError

from .cli_process import free_port, stop
from .test_serve_stop import API_KEY, _create_when_ready, start_serve


def _holding_the_write_lock(path: Path) -> sqlite3.Connection:
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_a_waiting_write_gives_up_once_waits_are_abandoned(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    with SQLiteStore(path, busy_timeout=120) as store:
        store.insert({"id": "cus_1", "object": "customer", "created": 1, "email": None})
        other = _holding_the_write_lock(path)
        outcome: list[BaseException | None] = []

        def write() -> None:
            try:
                store.insert({"id": "cus_2", "object": "customer", "created": 2, "email": None})
                outcome.append(None)
            except BaseException as error:  # noqa: BLE001 - handed to the test
                outcome.append(error)

        writer = threading.Thread(target=write, daemon=True)
        start = time.monotonic()
        writer.start()
        with store.waits_abandoned():
            writer.join(60)
        other.execute("ROLLBACK")
        other.close()
        assert not writer.is_alive()
        assert time.monotonic() - start < 60  # far below the 120 s busy timeout
        (error,) = outcome
        assert isinstance(error, StoreError)
        assert (error.http_status, error.type) == (503, "api_error")
        assert "nothing was written" in error.message
        assert store.get("cus_2") is None
        # Outside the block, writes wait for the lock again, and then go through.
        other = _holding_the_write_lock(path)
        released = threading.Timer(0.2, lambda: other.execute("ROLLBACK"))
        released.start()
        store.insert({"id": "cus_3", "object": "customer", "created": 3, "email": None})
        released.join()
        other.close()
        assert store.get("cus_3") is not None


def test_serve_exits_at_once_while_a_write_waits_for_the_lock(tmp_path: Path) -> None:
    data = tmp_path / "customers.db"
    port = free_port()
    process = start_serve(data, port)
    answers: list[Any] = []

    def blocked_create() -> None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/customers",
            data=b"email=waiting@example.com",
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answers.append(response.status)
        except urllib.error.HTTPError as error:
            answers.append(error.code)

    other: sqlite3.Connection | None = None
    try:
        _create_when_ready(port, process)  # acknowledged: jenny@example.com
        other = _holding_the_write_lock(data)
        client = threading.Thread(target=blocked_create, daemon=True)
        client.start()
        client.join(1.0)  # give it time to reach the server; it cannot finish meanwhile
        assert client.is_alive()
        stopped = time.monotonic()
        _, error = stop(process, signal.SIGTERM)
        # The default busy timeout is 30 s: the exit did not wait for it.
        assert time.monotonic() - stopped < 20
        client.join(30)
    finally:
        if other is not None:
            other.execute("ROLLBACK")
            other.close()
        if process.poll() is None:  # the test failed before it stopped the server
            stop(process)
    assert process.returncode == -signal.SIGTERM
    assert b"Traceback" not in error
    assert answers == [503]
    with sqlite3.connect(data) as check:
        emails = [row[0] for row in check.execute("SELECT email FROM customers")]
    assert emails == ["jenny@example.com"]
