"""The webhook delivery benchmark runs and prints one full row per store (tiny sizes: a
smoke test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_webhook_delivery_benchmark_prints_a_row_per_store(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.webhook_delivery", "--events", "30", "--ops", "20"]
        + ["--rounds", "2", "--dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    rows = [
        line.split("|")[1:-1] for line in completed.stdout.splitlines() if line.startswith("| ")
    ]
    header, *data = [[cell.strip() for cell in row] for row in rows]
    assert header[:2] == ["store", "delivered/s"]
    assert [row[0] for row in data] == ["memory", "sqlite FULL", "sqlite NORMAL"]
    for row in data:
        assert all(float(cell.replace(",", "")) > 0 for cell in row[1:])
