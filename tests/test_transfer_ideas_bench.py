"""The import-ideas benchmark runs end to end at a tiny size: its figures are read in
benchmarks/RESULTS.md, so a broken script would go unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = [
    "memory one process",
    "memory two processes",
    "sqlite one process",
    "sqlite two processes",
    "sqlite no created index",
]


def test_every_variant_imports_and_prints_its_row(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.transfer_ideas", "--size", "2500", "--rounds", "1"]
        + ["--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    rows = {
        cells[0]: cells[1:]
        for line in completed.stdout.splitlines()
        if line.startswith("| ") and not line.startswith(("| variant", "|---"))
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    assert sorted(rows) == sorted(VARIANTS)
    for variant, (ratio, wall, own, child) in rows.items():
        assert float(ratio.split(" ")[0]) > 0
        assert float(wall) > 0 and float(own) > 0
        assert (float(child) > 0) == ("two processes" in variant)  # the child did the checks
    assert list(tmp_path.iterdir()) == []
