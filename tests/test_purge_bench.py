"""The purge benchmark runs end to end at a tiny size and prints a full row per store (its
figures are read in benchmarks/RESULTS.md, so a broken script would go unnoticed)."""

from __future__ import annotations

from pathlib import Path

from .benchmark_tables import printed_rows


def test_purge_benchmark_works_off_a_small_backlog_in_bites(tmp_path: Path) -> None:
    printed = printed_rows(
        "purge_bench", "--events", "1500", "--creates", "3", "--rounds", "1", "--dir", str(tmp_path)
    )
    rows = [row for row in printed if row[0] in ("memory", "sqlite")]
    assert [row[:2] for row in rows] == [["memory", "after"], ["sqlite", "after"]]
    for row in rows:
        assert row[2].endswith("(1000)")  # the purging create took one bite
        assert row[3] == "1"  # the next create took the other 500
        assert row[7] == "0"  # nothing expired is left
    assert list(tmp_path.iterdir()) == []  # its files are removed
