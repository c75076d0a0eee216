"""The webhook delivery benchmark runs and prints one full row per store, the durable
ones delivered by a process of their own (tiny sizes: a smoke test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_webhook_delivery_benchmark_prints_a_row_per_store(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.webhook_delivery", "--events", "30", "--ops", "20"]
        + ["--rounds", "2", "--backlog", "40", "--dir", str(tmp_path)],
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
    assert header[:3] == ["store", "worker", "delivered/s"]
    assert [row[:2] for row in data] == [
        ["memory", "threads"],
        ["sqlite FULL", "process"],
        ["sqlite NORMAL", "process"],
    ]
    for row in data:
        # A tiny backlog may run dry in a round: the row says so after the ratio.
        assert all(float(cell.split(" (")[0].replace(",", "")) > 0 for cell in row[2:])
