"""The SQLite fixture benchmark runs end to end at a tiny size and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_sqlite_fixture_benchmark_prints_its_table() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.plugin_sqlite_bench", "--tests", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0] == "| kind | tests | median per test ms | minus bare ms | load |"
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in lines[2:5]}
    assert sorted(rows) == ["bare", "fresh", "plugin"]
    assert all(int(row[0]) == 5 for row in rows.values())
    assert float(rows["bare"][2]) == 0
    assert lines[-1].startswith("fresh / plugin (minus bare): ")
