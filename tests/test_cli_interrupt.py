"""Ctrl-C of a CLI command ends it with one line and the shell's status for it (130), not
a traceback (trial 5: a create waiting for another process's SQLite write lock printed 45
lines ending in KeyboardInterrupt). Nothing that was not committed is written."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from customer_core import CustomerService, SQLiteStore

from .cli_process import default_sigint


def opened(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open (Linux's /proc)."""
    try:
        return any(os.readlink(link) == str(path) for link in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # a descriptor closed while looking
        return False


def test_ctrl_c_of_a_write_waiting_for_the_lock_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "customers.db"
    with SQLiteStore(data) as store:
        CustomerService(store).create(email="before@example.com")
    holder = sqlite3.connect(data, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process's write, not finished
        process = subprocess.Popen(
            [sys.executable, "-m", "customer_core.cli", "create", "--db", str(data)]
            + ["-d", "email=waiting@example.com"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=default_sigint,
        )
        deadline = time.monotonic() + 60
        while not opened(process.pid, data):  # then it waits for the lock (30 s at most)
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        holder.close()
    assert (process.returncode, out, err) == (130, b"", b"interrupted\n")
    with SQLiteStore(data) as store:
        emails = [c.email for c in CustomerService(store).list(limit=10).data]
    assert emails == ["before@example.com"]
