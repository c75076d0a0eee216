"""The purge benchmark runs end to end at a tiny size and prints a full row per store (its
figures are read in benchmarks/RESULTS.md, so a broken script would go unnoticed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_purge_benchmark_works_off_a_small_backlog_in_bites(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.purge_bench", "--events", "1500", "--creates", "3"]
        + ["--rounds", "1", "--dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in completed.stdout.splitlines()
        if line.startswith(("| memory", "| sqlite"))
    ]
    assert [row[:2] for row in rows] == [["memory", "after"], ["sqlite", "after"]]
    for row in rows:
        assert row[2].endswith("(1000)")  # the purging create took one bite
        assert row[3] == "1"  # the next create took the other 500
        assert row[7] == "0"  # nothing expired is left
    assert list(tmp_path.iterdir()) == []  # its files are removed
