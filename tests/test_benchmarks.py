"""The store benchmark script runs end to end at a tiny size and prints well-formed tables
(its figures are read in benchmarks/RESULTS.md, so a broken script would go unnoticed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _table_rows(output: str, header_start: str) -> tuple[list[str], list[list[str]]]:
    lines = output.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(header_start))
    header = [cell.strip() for cell in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return header, rows


def _number(cell: str) -> float:
    return float(cell.split()[0].strip("(),x").replace(",", ""))


def test_store_benchmark_prints_a_full_row_per_store_and_size(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--sizes",
            "300",
            "--ops",
            "40",
            "--dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    header, rows = _table_rows(completed.stdout, "| store |")
    assert [row[:2] for row in rows] == [["memory", "300"], ["sqlite", "300"]]
    assert all(len(row) == len(header) for row in rows)
    memory, sqlite = (dict(zip(header, row, strict=True)) for row in rows)
    for row in (memory, sqlite):
        for column in (
            "floor",
            "create",
            "create/floor",
            "batched (/floor)",
            "insert alone batched/floor",
            "retrieve",
        ):
            assert _number(row[column]) > 0, column
    # The raw sqlite3 peer and the durable ratios exist for the file store only.
    assert memory["raw sqlite3"] == memory["create/raw"] == memory["insert alone/raw"] == "-"
    for column in ("raw sqlite3", "create/raw", "insert alone/raw"):
        assert _number(sqlite[column]) > 0, column
    assert sqlite["memory"].startswith("open ")

    search_header, search_rows = _table_rows(
        completed.stdout, "| store | customers | metadata exact"
    )
    assert [row[:2] for row in search_rows] == [["memory", "300"], ["sqlite", "300"]]
    assert all(len(row) == len(search_header) for row in search_rows)


def test_postgres_benchmark_prints_every_store_and_client_count() -> None:
    from .conftest import IN_CI, POSTGRES_MISSING

    if POSTGRES_MISSING is not None and not IN_CI:
        import pytest

        pytest.skip(POSTGRES_MISSING)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.postgres_bench",
            "--sizes",
            "200",
            "--ops",
            "10",
            "--clients-creates",
            "5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    header, rows = _table_rows(completed.stdout, "| store |")
    assert [row[:2] for row in rows] == [["memory", "200"], ["sqlite", "200"], ["postgres", "200"]]
    assert all(len(row) == len(header) for row in rows)
    assert _number(rows[2][-1]) > 0  # retrieve against the bare psycopg fetch
    _, clients = _table_rows(completed.stdout, "| client processes |")
    assert [row[0] for row in clients] == ["1", "2", "4"]
    assert all(_number(row[1]) > 0 for row in clients)
