"""Measure import and export of JSON lines beside the pydantic floor of the same run.

``python -m benchmarks.transfer_bench --sizes 100000 1000000`` writes a file of N varied
customers (exactly what an export writes), then times, at each size:

- import into a MemoryStore, into a SQLiteStore at ``synchronous="FULL"`` (an empty store
  file, opened first: the existing-file path, one WAL transaction), into the same held
  exclusively (``exclusive=True``, as ``customer-core import`` does: a rollback journal
  instead of the WAL, ``customer_core.store.sqlite_exclusive``), and into a data file
  that does not exist yet (``import_into_new_file``: built as ``PATH.partial`` without a
  WAL or syncs, then fsynced and put in place),
- export from each (to a file), the SQLite one in a child process so that its peak
  memory is the export's alone,
- the memory a MemoryStore holding them takes per customer (a fresh process's resident
  memory after importing the file minus before),
- the CPU and wall time of the first search after the memory import and after the
  SQLite (existing file) import, which build the search entries or postings the import
  left out (``MemoryStore.insert_many``, ``SQLiteStore.insert_many``),

each right after a round of the floor (``Customer.model_validate`` + ``model_dump(mode=
"json")`` of one customer, as in ``python -m benchmarks``), and prints rates, the ratio of
each rate to the floor measured just before it, and peak memory. It also checks that
every export is byte-identical to the file imported.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import hashlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pydantic_core

from customer_core import Customer, CustomerService, MemoryStore, SQLiteStore, transfer
from customer_core.canonical_line import canonical_record
from customer_core.ids import IdGenerator
from customer_core.store.base import KeyRange
from customer_core.store.sqlite_exclusive import held_exclusively
from customer_core.store.sqlite_new_file import new_sqlite_file
from customer_core.transfer import (
    FORMAT,
    FORMAT_VERSION,
    ExportResult,
    export_customers,
    import_customers,
    import_into_new_file,
)

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
        counts = dataclasses.asdict(ExportResult(size, 0, 0, 0))
        file.write(pydantic_core.to_json({"object": "customer_core.end", **counts}) + b"\n")


def floor_rates() -> tuple[float, float]:
    """The floor's rate in wall-clock time and in this process's CPU time."""
    body = CustomerService(MemoryStore()).create(**params_for(1)).to_dict()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(FLOOR_COUNT):
        Customer.model_validate(body).model_dump(mode="json")
    return FLOOR_COUNT / (time.perf_counter() - wall), FLOOR_COUNT / (time.process_time() - cpu)


def memory_status(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


def reset_peak() -> None:
    """Make VmHWM start again from the current RSS (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def digest(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:12]


def in_child(code: str) -> dict[str, Any]:
    """Run ``code`` in a fresh process (its memory is that code's alone) and return the
    JSON object it prints."""
    root = Path(__file__).resolve().parents[1]
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def export_in_child(db: Path, target: Path) -> dict[str, Any]:
    """Export from a SQLite file in a fresh process: its memory is the export's alone."""
    return in_child(
        "import json, time\n"
        "from customer_core import SQLiteStore\n"
        "from customer_core.transfer import export_customers\n"
        "from benchmarks.transfer_bench import memory_status\n"
        f"store = SQLiteStore({str(db)!r})\n"
        "before = memory_status('VmHWM')\n"
        "wall, cpu = time.perf_counter(), time.process_time()\n"
        f"export_customers(store, {str(target)!r})\n"
        "wall, cpu = time.perf_counter() - wall, time.process_time() - cpu\n"
        "after = memory_status('VmHWM')\n"
        "print(json.dumps({'wall': wall, 'cpu': cpu, 'before': before, 'after': after}))\n"
    )


def memory_store_size(source: Path, size: int) -> float:
    """Bytes of process memory per customer that a MemoryStore holding the file's customers
    takes (resident memory after the import minus before, in a fresh process)."""
    result = in_child(
        "import gc, json\n"
        "from customer_core import CustomerService, MemoryStore\n"
        "from customer_core.transfer import import_customers\n"
        "from benchmarks.transfer_bench import memory_status\n"
        "store = MemoryStore()\n"
        "before = memory_status('VmRSS')\n"
        f"import_customers(CustomerService(store), {str(source)!r})\n"
        "gc.collect()\n"
        "print(json.dumps({'grown': memory_status('VmRSS') - before}))\n"
    )
    return float(result["grown"]) / size


def first_search(store: MemoryStore | SQLiteStore) -> tuple[float, float]:
    """CPU and wall seconds of a metadata search right after an import (it builds what
    the import left to the first search)."""
    wall, cpu = time.perf_counter(), time.process_time()
    store.metadata_keys("plan", "gold", KeyRange(), limit=10)
    return time.process_time() - cpu, time.perf_counter() - wall


def measure(size: int, directory: Path) -> dict[str, Any]:
    source = directory / f"customers-{size}.jsonl"
    write_file(source, size)
    row: dict[str, Any] = {"size": size, "floors": [], "load": [os.getloadavg()[0]]}

    def paired(label: str, work: Any) -> None:
        """Time ``work`` between two floor rounds; ratios to their mean, wall and CPU."""
        before = floor_rates()
        gc.collect()
        if label == "export memory":
            reset_peak()
            row["rss before"] = memory_status("VmRSS")
        wall, cpu = time.perf_counter(), time.process_time()
        child = work()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if isinstance(child, dict):  # done in a child process: its own times
            wall, cpu = child["wall"], child["cpu"]
            row["child rss"] = (child["before"], child["after"])
        if label == "export memory":
            row["rss peak"] = memory_status("VmHWM")
        after = floor_rates()
        floor_wall, floor_cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
        row["floors"] += [before[0], after[0]]
        row[label] = (size / wall, size / wall / floor_wall, size / cpu / floor_cpu)

    memory = MemoryStore()
    paired("import memory", lambda: import_customers(CustomerService(memory), source))
    memory_export = directory / f"memory-{size}.jsonl"
    paired("export memory", lambda: export_customers(memory, memory_export))
    row["first search"] = first_search(memory)
    memory.close()

    db = directory / f"customers-{size}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with SQLiteStore(db, synchronous="FULL") as store:
        paired("import sqlite", lambda: import_customers(CustomerService(store), source))
        row["sqlite first search"] = first_search(store)
    held_db = directory / f"held-{size}.db"
    with SQLiteStore(held_db, synchronous="FULL") as store:
        paired(
            "import sqlite held",
            lambda: import_customers(CustomerService(store), source, exclusive=True),
        )
    held_db.unlink()
    new_db = directory / f"new-{size}.db"
    paired("import sqlite new file", lambda: import_into_new_file(source, new_db))
    new_db.unlink()
    sqlite_export = directory / f"sqlite-{size}.jsonl"
    paired("export sqlite", lambda: export_in_child(db, sqlite_export))
    row["identical"] = {digest(source), digest(memory_export), digest(sqlite_export)}
    row["memory store"] = memory_store_size(source, size)
    row["load"].append(os.getloadavg()[0])
    for path in (source, memory_export, sqlite_export, db):
        path.unlink()
    return row


def parts(directory: Path, count: int = 20_000) -> dict[str, float]:
    """CPU microseconds per customer of each step of an import, beside the floor: where
    the time goes (the steps run one after the other on the same ``count`` customers,
    with the garbage collector paused as an import pauses it)."""
    source = directory / "parts.jsonl"
    write_file(source, count)
    lines = source.read_bytes().splitlines()[1:-1]
    source.unlink()
    body = CustomerService(MemoryStore()).create(**params_for(1)).to_dict()
    chunks = range(0, count, 2000)
    results: dict[str, float] = {}
    records: list[Any] = []
    db = directory / "parts.db"
    store = SQLiteStore(db)
    memory = MemoryStore()

    def held() -> None:
        path = directory / "parts-held.db"
        with SQLiteStore(path) as target, held_exclusively(target):
            insert(target)
        path.unlink()

    def insert(target: MemoryStore | SQLiteStore) -> None:
        with target.transaction():  # one transaction, as an import's
            for start in chunks:
                target.insert_many(records[start : start + 2000])

    def new_file() -> None:
        path = directory / "parts-new.db"
        with new_sqlite_file(path) as building:
            insert(building)
        path.unlink()

    def full_check() -> None:
        for line in lines:
            CustomerService.stored_record(transfer._CUSTOMER.validate_json(line))

    steps = [
        ("floor", lambda: [Customer.model_validate(body).model_dump(mode="json") for _ in lines]),
        ("JSON parse alone", lambda: [pydantic_core.from_json(line) for line in lines]),
        ("full check + build record (other lines)", full_check),
        (
            "fast check, giving the record (an export's lines)",
            lambda: records.extend(canonical_record(line) for line in lines),
        ),
        ("memory insert_many", lambda: insert(memory)),
        ("memory: the first search after it", lambda: first_search(memory)),
        ("SQLite insert_many (existing file)", lambda: insert(store)),
        ("SQLite: the first search after it", lambda: first_search(store)),
        ("SQLite insert_many (existing file, held exclusively)", held),
        ("SQLite insert_many (new file)", new_file),
    ]
    for name, step in steps:
        gc.collect()
        gc.disable()
        cpu = time.process_time()
        step()
        results[name] = (time.process_time() - cpu) / count * 1e6
        gc.enable()
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return results


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
    print(
        "# customers/s (wall clock), then (rate / floor in wall time, in CPU time); the floor "
        "is measured right before and right after each operation."
    )
    columns = [
        "import memory",
        "import sqlite",
        "import sqlite held",
        "import sqlite new file",
        "export memory",
        "export sqlite",
    ]
    print(
        "| customers | load average (start → end) | floor | import memory | "
        "import SQLite FULL (existing file, WAL) | import SQLite FULL (existing file, held) | "
        "import SQLite (new file) | export memory | "
        "export SQLite | export memory: RSS → peak | export SQLite: RSS → peak | "
        "memory store per customer | first search after the import: memory | SQLite | "
        "files identical |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    mib = 2**20
    for size in arguments.sizes:
        row = measure(size, directory)
        floors = row["floors"]
        cells = [
            f"{row[name][0]:,.0f} ({row[name][1]:.2f}, {row[name][2]:.2f})" for name in columns
        ]
        child_before, child_after = row["child rss"]
        print(
            f"| {size:,} | {row['load'][0]:.1f} → {row['load'][1]:.1f} "
            f"| {min(floors):,.0f}–{max(floors):,.0f} | {' | '.join(cells)} "
            f"| {row['rss before'] / mib:,.0f} → {row['rss peak'] / mib:,.0f} MiB "
            f"| {child_before / mib:,.0f} → {child_after / mib:,.0f} MiB "
            f"| {row['memory store']:,.0f} bytes "
            f"| {row['first search'][0]:.2f} s CPU, {row['first search'][1]:.2f} s "
            f"| {row['sqlite first search'][0]:.2f} s CPU, {row['sqlite first search'][1]:.2f} s "
            f"| {'yes' if len(row['identical']) == 1 else 'NO'} |",
            flush=True,
        )
    print()
    print("# Where an import's time goes: CPU µs per customer (20,000 customers), and in floors.")
    print("| step | µs | floors |")
    print("|---|---|---|")
    steps = parts(directory)
    for name, micros in steps.items():
        print(f"| {name} | {micros:.1f} | {micros / steps['floor']:.2f} |")


if __name__ == "__main__":
    main()
