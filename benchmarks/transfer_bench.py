"""Measure import and export of JSON lines beside the pydantic floor of the same run.

``python -m benchmarks.transfer_bench --sizes 100000 1000000`` writes a file of N varied
customers (exactly what an export writes), then times, at each size:

- import into a MemoryStore and into a SQLiteStore at ``synchronous="FULL"`` (fresh file),
- export from each (to a file), the SQLite one in a child process so that its peak
  memory is the export's alone,

each right after a round of the floor (``Customer.model_validate`` + ``model_dump(mode=
"json")`` of one customer, as in ``python -m benchmarks``), and prints rates, the ratio of
each rate to the floor measured just before it, and peak memory. It also checks that
every export is byte-identical to the file imported.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pydantic_core

from customer_core import Customer, CustomerService, MemoryStore, SQLiteStore
from customer_core.ids import IdGenerator
from customer_core.transfer import FORMAT, FORMAT_VERSION, export_customers, import_customers

from .run import params_for

FLOOR_COUNT = 20_000


def write_file(path: Path, size: int) -> None:
    """``size`` customers as an export writes them (newest first, end line included):
    varied emails, metadata, prefixes and ids, in the shape the service gives them."""
    template = CustomerService(MemoryStore()).create(**params_for(0)).to_dict()
    start = 1_700_000_000
    ids = IdGenerator(clock=lambda: start, seed=size)
    records = []
    for n in range(size):
        record = dict(template)
        record["id"] = ids.customer_id()
        record["created"] = start + n // 10
        record["email"] = f"customer{n}@example.com"
        record["invoice_prefix"] = ids.invoice_prefix()
        record["metadata"] = {"order_id": str(n), "plan": "gold"}
        records.append(record)
    with open(path, "wb") as file:
        header = {"format": FORMAT, "version": FORMAT_VERSION, "api_version": "2026-09-30"}
        file.write(pydantic_core.to_json(header) + b"\n")
        for record in reversed(records):
            file.write(pydantic_core.to_json(record) + b"\n")
        end = {"object": "customer_core.end", "customers": size}
        end.update(deleted_customers=0, invoice_prefixes=0)
        file.write(pydantic_core.to_json(end) + b"\n")


def floor_rate() -> float:
    body = CustomerService(MemoryStore()).create(**params_for(1)).to_dict()
    started = time.perf_counter()
    for _ in range(FLOOR_COUNT):
        Customer.model_validate(body).model_dump(mode="json")
    return FLOOR_COUNT / (time.perf_counter() - started)


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def digest(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:12]


def export_in_child(db: Path, target: Path) -> dict[str, Any]:
    """Export from a SQLite file in a fresh process: its memory is the export's alone."""
    code = (
        "import json, resource, time, sys\n"
        "from customer_core import SQLiteStore\n"
        "from customer_core.transfer import export_customers\n"
        f"store = SQLiteStore({str(db)!r})\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "started = time.perf_counter()\n"
        f"export_customers(store, {str(target)!r})\n"
        "elapsed = time.perf_counter() - started\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "print(json.dumps({'seconds': elapsed, 'rss_before': before, 'rss_after': after}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def measure(size: int, directory: Path) -> dict[str, Any]:
    source = directory / f"customers-{size}.jsonl"
    write_file(source, size)
    row: dict[str, Any] = {"size": size}

    def timed(label: str, work: Any) -> float:
        floor = floor_rate()
        gc.collect()
        started = time.perf_counter()
        work()
        rate = size / (time.perf_counter() - started)
        row[label] = rate
        row[f"{label}/floor"] = rate / floor
        row.setdefault("floors", []).append(floor)
        return rate

    memory = MemoryStore()
    timed("import memory", lambda: import_customers(CustomerService(memory), source))
    memory_export = directory / f"memory-{size}.jsonl"
    rss_before = peak_rss()
    timed("export memory", lambda: export_customers(memory, memory_export))
    row["export memory peak growth"] = peak_rss() - rss_before
    memory.close()

    db = directory / f"customers-{size}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with SQLiteStore(db, synchronous="FULL") as store:
        timed("import sqlite", lambda: import_customers(CustomerService(store), source))
    sqlite_export = directory / f"sqlite-{size}.jsonl"
    floor = floor_rate()
    child = export_in_child(db, sqlite_export)
    row["export sqlite"] = size / child["seconds"]
    row["export sqlite/floor"] = row["export sqlite"] / floor
    row["floors"].append(floor)
    row["export sqlite rss"] = (child["rss_before"], child["rss_after"])
    row["identical"] = {digest(source), digest(memory_export), digest(sqlite_export)}
    for path in (source, memory_export, sqlite_export, db):
        path.unlink()
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dir", type=Path, default=None, help="where to put the files")
    arguments = parser.parse_args(argv)
    directory = arguments.dir or Path(tempfile.mkdtemp(prefix="customer-core-transfer-"))
    directory.mkdir(parents=True, exist_ok=True)
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC"
    )
    print("# rates in customers/s; /floor = rate / floor rate measured just before it.")
    print(
        "| customers | floor | import memory (/floor) | import SQLite FULL (/floor) | "
        "export memory (/floor) | export SQLite (/floor) | export memory: peak RSS growth | "
        "export SQLite: RSS before → peak | files identical |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for size in arguments.sizes:
        row = measure(size, directory)
        floors = row["floors"]
        before, after = row["export sqlite rss"]
        print(
            f"| {size:,} | {min(floors):,.0f}–{max(floors):,.0f} "
            f"| {row['import memory']:,.0f} ({row['import memory/floor']:.2f}) "
            f"| {row['import sqlite']:,.0f} ({row['import sqlite/floor']:.2f}) "
            f"| {row['export memory']:,.0f} ({row['export memory/floor']:.2f}) "
            f"| {row['export sqlite']:,.0f} ({row['export sqlite/floor']:.2f}) "
            f"| {row['export memory peak growth'] / 2**20:,.0f} MiB "
            f"| {before / 2**20:,.0f} → {after / 2**20:,.0f} MiB "
            f"| {'yes' if len(row['identical']) == 1 else 'NO'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
