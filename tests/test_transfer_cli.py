"""customer-core export and import on a data file, and imports interrupted by Ctrl-C or
killed outright: the store is left as it was, and the import can simply run again."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pydantic_core
import pytest

from customer_core import CustomerService, MemoryStore, SQLiteStore
from customer_core.cli import main
from customer_core.ids import IdGenerator
from customer_core.store.base import KeyRange

from .cli_process import default_sigint

ROOT = Path(__file__).resolve().parents[1]


def write_customers(path: Path, count: int) -> None:
    """``count`` customers as JSON lines (headerless), quickly: one template, varied."""
    template = (
        CustomerService(MemoryStore())
        .create(name="Jenny Rosen", email="x@example.com", metadata={"plan": "gold"})
        .to_dict()
    )
    ids = IdGenerator(clock=lambda: 1_700_000_000, seed=count)
    with open(path, "wb") as file:
        for n in range(count):
            record = {**template, "id": ids.customer_id(), "email": f"c{n}@example.com"}
            record["invoice_prefix"] = ids.invoice_prefix()
            file.write(pydantic_core.to_json(record) + b"\n")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "customers.db"
    with SQLiteStore(path) as store:
        service = CustomerService(store)
        service.create(email="kept@example.com")
        service.delete(service.create(email="gone@example.com").id)
    return path


def state(path: Path) -> dict[str, object]:
    with SQLiteStore(path) as store:
        store.check_consistency()
        return store.snapshot()


def test_export_then_import_through_the_command(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "export.jsonl"
    assert main(["export", "--db", str(db), "-o", str(out), "--order", "oldest"]) == 0
    assert capsys.readouterr().err == (
        "exported 1 customer, 0 tax IDs, 1 deleted customer, 0 former invoice prefixes\n"
    )
    copy = tmp_path / "copy.db"
    assert main(["import", str(out), "--db", str(copy)]) == 0
    assert capsys.readouterr().err == (
        "imported 1 new customer (0 replaced, 0 skipped), 0 tax IDs, 1 deleted customer, "
        "0 former invoice prefixes\n"
    )
    assert main(["export", "--db", str(copy)]) == 0
    assert capsys.readouterr().out.encode() == out.read_bytes()
    assert main(["import", str(out), "--db", str(copy), "--on-conflict", "skip"]) == 0
    assert capsys.readouterr().err == (
        "imported 0 new customers (0 replaced, 1 skipped), 0 tax IDs, "
        "0 deleted customers (1 already there), 0 former invoice prefixes\n"
    )


def test_a_bad_line_prints_where_and_why_and_exits_1(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.jsonl"
    good = {"id": "cus_Good", "object": "customer", "created": 1, "invoice_prefix": "GOOD"}
    source.write_text(json.dumps(good) + "\n" + json.dumps({**good, "email": "nope"}) + "\n")
    before = state(db)
    assert main(["import", str(source), "--db", str(db)]) == 1
    assert capsys.readouterr().err == (
        "error: line 2: email: Invalid email address: nope\nnothing was imported\n"
    )
    assert state(db) == before
    assert main(["import", str(tmp_path / "missing.jsonl"), "--db", str(db)]) == 1
    assert capsys.readouterr().err == (
        f"error: cannot read {tmp_path / 'missing.jsonl'}: no such file or directory\n"
    )


def test_import_reads_stdin(db: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    write_customers(source, 3)
    with source.open("rb") as stdin:
        completed = subprocess.run(
            [sys.executable, "-m", "customer_core.cli", "import", "-", "--db", str(db)],
            stdin=stdin,
            capture_output=True,
            cwd=ROOT,
            timeout=60,
        )
    assert completed.returncode == 0, completed.stderr
    # Not a terminal: the summary alone, no progress bar.
    assert completed.stderr.decode().startswith("imported 3 new customers")
    assert state(db)["customers"].__len__() == 4  # type: ignore[attr-defined]


def _start_import(source: Path, db: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "customer_core.cli", "import", str(source), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )


STOP_SIGNALS = {"kill": signal.SIGKILL, "interrupt": signal.SIGINT, "terminate": signal.SIGTERM}


def interrupted_import(db: Path, source: Path, how: str) -> tuple[subprocess.Popen[bytes], bytes]:
    """``customer-core import`` of ``source`` into ``db``, killed (``how="kill"``),
    interrupted (``"interrupt"``, Ctrl-C) or terminated (``"terminate"``, SIGTERM)
    mid-transaction; the process and its stderr."""
    # The lines come through a pipe that stays open, so the import is still waiting for
    # more (mid-transaction) when the signal arrives, however slow or fast the machine.
    process = start_piped_import(db)
    with process:  # closes the pipes and waits, whatever happens
        feeder = _feed(process, source.read_bytes())
        reader, collected = _collect(process.stderr)
        try:
            _wait_until_writing(process, db)
            process.send_signal(STOP_SIGNALS[how])
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
                reader.join(10)
                raise AssertionError(
                    f"the import did not stop:\n{collected.decode(errors='replace')}"
                ) from None
            feeder.join(60)
            reader.join(60)
        finally:
            if process.poll() is None:
                process.kill()
    return process, bytes(collected)


def _wait_until_writing(process: subprocess.Popen[bytes], db: Path) -> None:
    """Until the import's uncommitted pages reach the disk (it is mid-transaction): into
    an existing data file, which the command holds with a rollback journal beside it
    (``held_exclusively``), that file grows with the journal there; a new data file is
    built as a partial file."""
    journal = Path(f"{db}-journal") if db.exists() else None
    written = db if journal is not None else Path(f"{db}.partial")
    start = written.stat().st_size if journal is not None else 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the import ended before it could be interrupted"
        if (journal is None or journal.exists()) and (
            written.exists() and written.stat().st_size > start + 1_000_000
        ):
            return
        time.sleep(0.02)
    raise AssertionError("the import never started writing")


def start_piped_import(db: Path) -> subprocess.Popen[bytes]:
    """``customer-core import - --db DB`` reading a pipe the test writes (and may leave
    open), with Ctrl-C's default action, its stderr piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "customer_core.cli", "import", "-", "--db", str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        preexec_fn=default_sigint,
    )


def _feed(process: subprocess.Popen[bytes], data: bytes) -> threading.Thread:
    """Write ``data`` to the import's stdin from a thread, leaving the pipe open."""

    def write() -> None:
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            process.stdin.write(data)
            process.stdin.flush()

    feeder = threading.Thread(target=write, daemon=True)
    feeder.start()
    return feeder


def _collect(stream: IO[bytes] | None) -> tuple[threading.Thread, bytearray]:
    """Read ``stream`` to its end from a thread, so the child never blocks writing to it."""
    collected = bytearray()

    def read() -> None:
        assert stream is not None
        for chunk in iter(lambda: stream.read(65536), b""):
            collected.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader, collected


@pytest.mark.parametrize("how", ["kill", "interrupt"])
def test_an_interrupted_import_leaves_the_store_as_it_was(
    db: Path, tmp_path: Path, how: str
) -> None:
    source = tmp_path / "big.jsonl"
    write_customers(source, 12_000)
    before = state(db)
    process, stderr = interrupted_import(db, source, how)
    if how == "kill":
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 130, stderr
        assert stderr.decode().endswith("interrupted: nothing was imported\n")
    assert state(db) == before
    # Running it again imports everything.
    again = _start_import(source, db)
    _, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr
    after = state(db)
    assert len(after["customers"]) == 12_001  # type: ignore[arg-type]
    # Its search postings wait for the first search, which finds every imported customer.
    with SQLiteStore(db) as store:
        everything = KeyRange()
        assert len(store.word_keys("name", ["jenny rosen"], everything, limit=20_000)) == 12_000
        assert len(store.metadata_keys("plan", "gold", everything, limit=20_000)) == 12_000
        store.check_consistency()
