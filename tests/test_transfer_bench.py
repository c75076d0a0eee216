"""The import/export benchmark runs end to end at a tiny size: its figures are read in
benchmarks/RESULTS.md, so a broken script would go unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_transfer_benchmark_prints_a_row_and_round_trips_byte_identically(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.transfer_bench",
            "--sizes",
            "300",
            "--dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| 300 |")]
    assert len(rows) == 1
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert len(cells) == 15
    assert cells[-1] == "yes"  # the export of each store is the file imported, byte for byte
    for cell in cells[-3:-1]:  # the first search after the memory and SQLite imports
        cpu, wall = cell.split(" s CPU, ")
        assert float(cpu) >= 0 and float(wall.removesuffix(" s")) >= 0
    assert cells[-4].endswith(" bytes")  # the memory store's size per customer
    assert float(cells[-4].removesuffix(" bytes").replace(",", "")) >= 0
    start, end = cells[1].split(" → ")  # the load average before and after
    assert float(start) >= 0 and float(end) >= 0
    for cell in cells[3:9]:  # rate (ratio to the floor in wall time, in CPU time)
        rate, ratios = cell.split(" ", 1)
        assert float(rate.replace(",", "")) > 0
        assert all(float(ratio) > 0 for ratio in ratios.strip("()").split(", "))
    assert list(tmp_path.glob("*.jsonl")) == []
