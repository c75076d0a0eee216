"""The HTTP concurrency benchmark runs end to end, briefly, and prints well-formed tables
(benchmarks/RESULTS.md quotes them)."""

from __future__ import annotations

import subprocess
import sys

from .test_benchmarks import ROOT, _number, _table_rows


def test_http_concurrency_benchmark_prints_every_store_and_dispatch() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.http_concurrency",
            "--seconds",
            "0.1",
            "--rounds",
            "1",
            "--customers",
            "5",
            "--dispatch",
            "pools",
            "inline",
            "--stacks",
            "uvloop+httptools",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    servers = [
        [store, dispatch] for store in ("memory", "sqlite") for dispatch in ("pools", "inline")
    ]
    header, rows = _table_rows(completed.stdout, "| store | dispatch | retrieve 1")
    assert [row[:2] for row in rows] == servers
    assert all(len(row) == len(header) for row in rows)
    assert all(_number(cell) > 0 for row in rows for cell in row[2:])
    header, rows = _table_rows(completed.stdout, "| store | dispatch | retrieves/s")
    assert [row[:2] for row in rows] == servers
    by_store = {(row[0], row[1]): dict(zip(header, row, strict=True)) for row in rows}
    held = "slowest retrieve ms, write lock held 1 s, 32 writers waiting"
    assert by_store["memory", "pools"][held] == "-"
    # Inline, a retrieve waits behind the create that waits for the held lock.
    assert _number(by_store["sqlite", "inline"][held]) > 500
    header, rows = _table_rows(completed.stdout, "| store | stack |")
    assert [row[:2] for row in rows] == [
        ["memory", "uvloop+httptools"],
        ["sqlite", "uvloop+httptools"],
    ]
