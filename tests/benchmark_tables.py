"""What the benchmark smoke tests read: the table rows a benchmark module prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def printed_rows(module: str, *arguments: str, timeout: float = 120) -> list[list[str]]:
    """Run ``python -m benchmarks.<module> <arguments>`` (it must succeed) and return the
    rows of the Markdown tables it prints (``| a | b |``, not the ``|---|`` lines), each as
    its stripped cells."""
    completed = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert completed.returncode == 0, completed.stderr
    return [
        [cell.strip() for cell in line.split("|")[1:-1]]
        for line in completed.stdout.splitlines()
        if line.startswith("| ")
    ]
