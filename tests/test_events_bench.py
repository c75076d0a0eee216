"""The events benchmark runs and prints one full row per store (tiny sizes: a smoke test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .benchmark_tables import ROOT, printed_rows


def _table(tmp_path: Path, *options: str) -> tuple[list[str], list[list[str]]]:
    header, *data = printed_rows(
        "events_bench", "--ops", "20", "--rounds", "2", "--dir", str(tmp_path), *options
    )
    return header, data


def test_events_benchmark_prints_a_row_per_store(tmp_path: Path) -> None:
    header, data = _table(tmp_path)
    assert header[0] == "store" and [row[0] for row in data] == [
        "memory",
        "sqlite FULL",
        "sqlite NORMAL",
    ]
    for row in data:
        assert all(float(cell.replace(",", "")) > 0 for cell in row[1:])


def test_events_benchmark_measures_only_the_stores_named(tmp_path: Path) -> None:
    header, data = _table(tmp_path, "--store", "sqlite-normal")
    assert header[4] == "create cpu" and header[8] == "update cpu"
    assert [row[0] for row in data] == ["sqlite NORMAL"]


def test_the_counted_child_runs_creates_and_updates_on_a_ticking_clock() -> None:
    # What each valgrind run of ``--instructions`` executes (valgrind itself is too slow
    # for the suite): warm-up creates, counted creates, then updates, on every store kind.
    for store in ("memory", "sqlite NORMAL"):
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.events_bench", "--child", store, "True"]
            + ["3", "2", "2", "0.0001"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert completed.returncode == 0, completed.stderr


def test_a_control_run_measures_events_off_in_both_services(tmp_path: Path) -> None:
    header, data = _table(tmp_path, "--store", "memory", "--control")
    assert [row[0] for row in data] == ["memory (control: events off in both)"]
    assert all(float(cell.replace(",", "")) > 0 for cell in data[0][1:])


def test_the_sqlite_event_variants_print_a_ratio_per_variant_asked_for() -> None:
    variants = ["norecord", "noadd", "noinsert", "on"]
    rows = printed_rows("sqlite_event_variants", "--ops", "5", "--rounds", "2", *variants)
    assert [row[0] for row in rows] == variants
    assert all(float(row[1].split()[0]) > 0 for row in rows)
