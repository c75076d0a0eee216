"""A command whose output cannot be written (a full disk: /dev/full) says so in one line
on stderr and exits 1, instead of a traceback; the data file is as the command left it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore

from .cli_process import default_sigint, free_port, stop


def run_into_full_disk(*argv: str) -> subprocess.CompletedProcess[str]:
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [sys.executable, "-m", "customer_core", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )


@pytest.mark.parametrize("command", [["list"], ["events", "list"], ["retrieve", "{id}"]])
def test_a_full_disk_is_one_line_of_error(tmp_path: Path, command: list[str]) -> None:
    data = tmp_path / "customers.db"
    with SQLiteStore(data) as store:
        customer_id = CustomerService(store).create(name="Jenny").id
    argv = [part.format(id=customer_id) for part in command]
    finished = run_into_full_disk(*argv, "--db", str(data))
    assert finished.returncode == 1
    assert finished.stderr == "error: cannot write the output: no space left on device\n"


@pytest.mark.parametrize("command", ["create", "update", "delete"])
def test_a_write_into_a_full_disk_is_kept_and_reported_as_done(
    tmp_path: Path, command: str
) -> None:
    data = tmp_path / "customers.db"
    with SQLiteStore(data) as store:
        existing = CustomerService(store).create(name="Jenny").id
    argv = {
        "create": ["create", "-d", "name=Ada"],
        "update": ["update", existing, "-d", "name=Ada"],
        "delete": ["delete", existing],
    }[command]
    finished = run_into_full_disk(*argv, "--db", str(data))
    with SQLiteStore(data) as store:
        names = {c.id: c.name for c in CustomerService(store).list().data}
    changed = {
        "create": next((id for id in names if id != existing), "none"),
        "update": existing,
        "delete": existing,
    }[command]
    done = {"create": "created", "update": "updated", "delete": "deleted"}[command]
    # Not "nothing happened": a script that retries on this message would write twice.
    assert (finished.returncode, finished.stderr) == (
        1,
        f"error: customer {changed} was {done}, but its answer could not be written: "
        "no space left on device\n",
    )
    assert (
        names
        == {
            "create": {existing: "Jenny", changed: "Ada"},
            "update": {existing: "Ada"},
            "delete": {},
        }[command]
    )


@pytest.mark.parametrize(
    "command",
    [
        ["create", "-d", "name=Ada"],
        ["list"],
        ["events", "list"],
        ["export"],
        ["search", "name:'x'"],
    ],
)
def test_a_closed_stdout_is_refused_before_anything_is_done(
    tmp_path: Path, command: list[str]
) -> None:
    data = tmp_path / "customers.db"
    with SQLiteStore(data) as store:
        CustomerService(store).create(name="Jenny")
    finished = subprocess.run(
        [sys.executable, "-m", "customer_core", *command, "--db", str(data)],
        preexec_fn=lambda: os.close(1),  # as a shell's >&- starts it: no sys.stdout
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    assert (finished.returncode, finished.stderr) == (
        1,
        "error: the standard output is closed: nothing was done\n",
    )
    with SQLiteStore(data) as store:
        assert [c.name for c in CustomerService(store).list().data] == ["Jenny"]


def test_an_export_to_a_file_needs_no_stdout(tmp_path: Path) -> None:
    data, target = tmp_path / "customers.db", tmp_path / "out.jsonl"
    with SQLiteStore(data) as store:
        CustomerService(store).create(name="Jenny")
    finished = subprocess.run(
        [sys.executable, "-m", "customer_core", "export", "--db", str(data), "-o", str(target)],
        preexec_fn=lambda: os.close(1),
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    assert '"name":"Jenny"' in target.read_text()


def test_serve_with_stdout_closed_serves_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "customer_core", "serve", "--memory", "--api-key", "sk_test_c"]
        + ["--port", str(port)],
        stderr=subprocess.PIPE,
        preexec_fn=lambda: (os.close(1), default_sigint()),
    )
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/customers", headers={"Authorization": "Bearer sk_test_c"}
        )
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[1].decode()[-2000:]
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "serve never answered"
                time.sleep(0.05)
    finally:
        _, error = stop(process)
    assert process.returncode == 130
    assert b"Traceback" not in error
