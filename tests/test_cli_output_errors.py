"""A command whose output cannot be written (a full disk: /dev/full) says so in one line
on stderr and exits 1, instead of a traceback; the data file is as the command left it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore


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


def test_a_create_into_a_full_disk_is_kept_and_reported(tmp_path: Path) -> None:
    data = tmp_path / "customers.db"
    finished = run_into_full_disk("create", "-d", "name=Jenny", "--db", str(data))
    assert (finished.returncode, finished.stderr) == (
        1,
        "error: cannot write the output: no space left on device\n",
    )
    with SQLiteStore(data) as store:
        assert [c.name for c in CustomerService(store).list().data] == ["Jenny"]
