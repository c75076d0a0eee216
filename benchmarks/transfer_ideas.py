"""Measure ideas for import speed (issue 15 item 8) beside the way imports run today.

``python -m benchmarks.transfer_ideas --size 100000 --rounds 3`` writes a file of N
customers as an export writes them (``transfer_bench.write_file``) and imports the
customer lines of it, in alternating rounds, each between two rounds of the floor:

- ``one process``: what an import does per line and per chunk of 2,000: the fast check
  (``canonical_record``), then the store's rows or entries and their insert, as
  ``insert_many`` makes them (both stores leave the postings only search reads, the
  words of name and phone and the metadata values, to the first search: SQLite notes
  the chunk's ids in ``customers_unsearched``, memory in ``_unsearched``);
- ``two processes``: the same work split in two: a child process reads and checks the
  lines and prepares each chunk's rows (SQLite: the customer, prefix and email posting
  rows, sorted, and the note; memory: the JSON payloads and the created-order and email
  entries), and sends them pickled through a pipe while the parent inserts the chunk
  before;
- SQLite only, ``no created index``: one process, the ``customers_by_created`` index
  dropped before the first chunk and built by ``CREATE INDEX`` inside the same
  transaction at the end (a sorted build instead of an insert per customer).

It prints, per variant: wall-clock rate and its ratio to the floor, and CPU time per
customer of the parent and of the child (the parent's is what bounds a pipeline when the
child has a core of its own). Everything writes into a fresh store, in one transaction,
as an import does. The prototypes reach into the stores' private helpers; they are
measurements, not an import path.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import resource
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pydantic_core

from customer_core import MemoryStore, SQLiteStore
from customer_core.canonical_line import canonical_record
from customer_core.store import sqlite as sqlite_module
from customer_core.store.entries import add_email_entry

from .transfer_bench import floor_rates, write_file

CHUNK = 2000
_PREFIX_SQL = (
    "INSERT INTO invoice_prefixes (prefix, customer_id) {values} "
    "ON CONFLICT (prefix) DO UPDATE SET customer_id = excluded.customer_id "
    "WHERE customer_id = excluded.customer_id"
)
_CUSTOMER_SQL = (
    "INSERT OR IGNORE INTO customers (id, created, email, body) "
    "SELECT * FROM ({values}) AS new "
    "WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE id = new.column1)"
)


def records(source: Path) -> Iterator[list[dict[str, Any]]]:
    """The file's customers, checked as an import checks an export's lines, by chunk."""
    chunk: list[dict[str, Any]] = []
    with open(source, "rb") as file:
        for line in file:
            if not line.startswith(b'{"id":"cus_'):
                continue
            record = canonical_record(line.rstrip(b"\n"))
            assert record is not None
            chunk.append(record)
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


# --- what each store does with a chunk: prepare (pure), then insert ------------------------


def sqlite_rows(chunk: list[dict[str, Any]]) -> tuple[Any, ...]:
    """``SQLiteStore.insert_many``'s Python half: the customer, prefix and email posting
    rows, sorted, and the note of the chunk's ids."""
    customers, prefixes = [], []
    emails: list[tuple[Any, ...]] = []
    for record in chunk:
        customer_id = record["id"]
        customers.append(
            (customer_id, record["created"], record.get("email"), sqlite_module._encode(record))
        )
        prefixes.append((record["invoice_prefix"], customer_id))
        add_email_entry(record, emails)
    customers.sort()
    note = pydantic_core.to_json([row[0] for row in customers]).decode()
    return sorted(prefixes), customers, sorted(emails), note


def sqlite_insert(store: SQLiteStore, rows: tuple[Any, ...]) -> None:
    """``SQLiteStore.insert_many``'s SQL half, savepoint and conflict counts included."""
    prefixes, customers, emails, note = rows
    with store._writing() as connection:
        connection.execute("SAVEPOINT insert_many")
        reserved = sqlite_module._insert_rows(connection, _PREFIX_SQL, prefixes)
        inserted = sqlite_module._insert_rows(connection, _CUSTOMER_SQL, customers)
        assert (reserved, inserted) == (len(prefixes), len(customers))
        sqlite_module._insert_rows(
            connection, sqlite_module._INSERT_POSTINGS_SQL["customer_words"], emails
        )
        connection.execute("INSERT INTO customers_unsearched (customer_ids) VALUES (?)", (note,))
        connection.execute("RELEASE insert_many")


def memory_entries(chunk: list[dict[str, Any]]) -> tuple[Any, ...]:
    """``MemoryStore.insert_many``'s pure half: payloads, prefixes, and the created-order
    and email entries (the others wait for the first search)."""
    order: list[tuple[Any, ...]] = []
    emails: list[tuple[Any, ...]] = []
    payloads = []
    for record in chunk:
        payloads.append(
            (record["id"], record["created"], record["invoice_prefix"], MemoryStore._encode(record))
        )
        order.append((record["created"], record["id"]))
        add_email_entry(record, emails)
    return payloads, order, emails


def memory_insert(store: MemoryStore, prepared: tuple[Any, ...]) -> None:
    """``MemoryStore.insert_many``'s other half: the checks, the records, the customers
    noted unsearched, the entries queued for the merge at commit."""
    payloads, order, emails = prepared
    with store._lock:
        for customer_id, _, prefix, _ in payloads:
            taken = customer_id in store._records or customer_id in store._tombstones
            held = store._prefixes.get(prefix)
            assert not taken and held in (None, customer_id)
        store._prefixes.update((prefix, customer_id) for customer_id, _, prefix, _ in payloads)
        store._records.update((customer_id, payload) for customer_id, _, _, payload in payloads)
        store._unsearched.update((customer_id, created) for customer_id, created, _, _ in payloads)
        for index, added in ((store._order, order), (store._by_words, emails)):
            store._unindexed[id(added)] = (index, added)


# --- the variants ---------------------------------------------------------------------------


def one_process(source: Path, prepare: Callable[[Any], Any], insert: Callable[[Any], None]) -> None:
    for chunk in records(source):
        insert(prepare(chunk))


def two_processes(
    source: Path, prepare: Callable[[Any], Any], insert: Callable[[Any], None]
) -> None:
    """A forked child checks and prepares chunk after chunk while this process inserts."""
    readable, writable = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        os.close(readable)
        status = 0
        try:
            with os.fdopen(writable, "wb", buffering=1 << 20) as out:
                for chunk in records(source):
                    data = pickle.dumps(prepare(chunk), pickle.HIGHEST_PROTOCOL)
                    out.write(struct.pack("<I", len(data)) + data)
        except BaseException:
            status = 1
        os._exit(status)
    os.close(writable)
    with os.fdopen(readable, "rb", buffering=1 << 20) as pipe:
        while head := pipe.read(4):
            insert(pickle.loads(pipe.read(struct.unpack("<I", head)[0])))
    _, status = os.waitpid(child, 0)
    assert status == 0, "the child failed"


def run(variant: str, source: Path, directory: Path) -> tuple[float, float, float]:
    """Import ``source`` into a fresh store; return wall seconds and the CPU seconds of
    this process and of the child."""
    kind, how = variant.split(" ", 1)
    for path in directory.glob("ideas.db*"):
        path.unlink()
    store: Any = (
        MemoryStore()
        if kind == "memory"
        else SQLiteStore(directory / "ideas.db", synchronous="FULL")
    )
    if kind == "memory":
        prepare: Callable[[Any], Any] = memory_entries

        def insert(prepared: Any) -> None:
            memory_insert(store, prepared)

    else:
        prepare = sqlite_rows

        def insert(prepared: Any) -> None:
            sqlite_insert(store, prepared)

    gc.collect()
    gc.disable()
    before, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    wall = time.perf_counter()
    try:
        with store.transaction():
            if how == "no created index":
                with store._writing() as connection:
                    connection.execute("DROP INDEX customers_by_created")
            (two_processes if how == "two processes" else one_process)(source, prepare, insert)
            if how == "no created index":
                with store._writing() as connection:
                    connection.execute(
                        "CREATE INDEX customers_by_created ON customers (created, id)"
                    )
        wall = time.perf_counter() - wall
    finally:
        gc.enable()
    after, children_after = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    store.close()
    own = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    child = (
        children_after.ru_utime - children.ru_utime + children_after.ru_stime - children.ru_stime
    )
    return wall, own, child


VARIANTS = (
    "memory one process",
    "memory two processes",
    "sqlite one process",
    "sqlite two processes",
    "sqlite no created index",
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the files")
    arguments = parser.parse_args(argv)
    directory = arguments.dir or Path(tempfile.mkdtemp(prefix="customer-core-ideas-"))
    source = directory / f"ideas-{arguments.size}.jsonl"
    write_file(source, arguments.size)
    size = arguments.size
    results: dict[str, list[tuple[float, float, float, float]]] = {
        v: [] for v in arguments.variants
    }
    print(f"{size:,} customers, load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    for _ in range(arguments.rounds):
        for variant in arguments.variants:
            floor_before = floor_rates()[0]
            wall, own, child = run(variant, source, directory)
            floor = (floor_before + floor_rates()[0]) / 2
            results[variant].append((size / wall / floor, wall, own, child))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print()
    print(
        "| variant | wall ratio to the floor (median, range) | µs a customer: wall | CPU, this process | CPU, child |"
    )
    print("|---|---|---|---|---|")
    for variant, rows in results.items():
        ratios = [row[0] for row in rows]

        def median_us(column: int, rows: list[Any] = rows) -> float:
            return statistics.median(row[column] for row in rows) / size * 1e6

        print(
            f"| {variant} | {statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f}) "
            f"| {median_us(1):.1f} | {median_us(2):.1f} | {median_us(3):.1f} |"
        )
    source.unlink()
    for path in directory.glob("ideas.db*"):
        path.unlink()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
