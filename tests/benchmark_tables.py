"""What the benchmark smoke tests read: what a benchmark module prints, and its table rows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def printed_lines(module: str, *arguments: str, timeout: float = 120) -> list[str]:
    """Run ``python -m benchmarks.<module> <arguments>`` (it must succeed) and return the
    lines it prints."""
    completed = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.splitlines()


def printed_rows(module: str, *arguments: str, timeout: float = 120) -> list[list[str]]:
    """``printed_lines``' rows of Markdown tables (``| a | b |``, not the ``|---|`` lines),
    each as its stripped cells."""
    return [
        [cell.strip() for cell in line.split("|")[1:-1]]
        for line in printed_lines(module, *arguments, timeout=timeout)
        if line.startswith("| ")
    ]
