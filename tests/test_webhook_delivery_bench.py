"""The webhook delivery benchmark runs and prints one full row per store, the durable
ones delivered by a process of their own, paused and resumed between rounds (tiny
sizes: a smoke test)."""

from __future__ import annotations

from pathlib import Path

from .benchmark_tables import printed_rows


def test_webhook_delivery_benchmark_prints_a_row_per_store(tmp_path: Path) -> None:
    header, *data = printed_rows(
        "webhook_delivery",
        *("--events", "30", "--pairs", "2", "--seconds", "0.05", "--backlog", "40"),
        *("--dir", str(tmp_path)),
        timeout=300,
    )
    assert header[:3] == ["store", "worker", "delivered/s"]
    assert [row[:2] for row in data] == [
        ["memory", "in-process, sender process"],
        ["sqlite FULL", "process"],
        ["sqlite NORMAL", "process"],
    ]
    assert header[3:] == [
        "us/delivery",
        "while running",
        ">= 500/s",
        "stopped",
        "running",
        "ratio",
        "quartiles",
        "range",
        ">= 0.80",
        "cpu",
        "thread cpu",
        "load",
    ]
    for row in data:
        delivered, cost, during, fast, stopped, running, ratio, quartiles, spread, met, cpu = row[
            2:13
        ]
        # A tiny backlog may run dry in a round: the row says so after the ratio.
        numbers = [delivered, stopped, running, ratio.split(" (")[0], cpu, row[13]]
        assert all(float(cell.replace(",", "")) > 0 for cell in numbers)
        assert float(during.replace(",", "")) >= 0
        assert float(cost.replace(",", "")) >= 0  # CPU in clock ticks: a tiny backlog may show 0
        low, high = (float(value) for value in spread.split("-"))
        assert 0 < low <= float(ratio.split(" (")[0]) <= high
        assert quartiles.count("-") == 1
        reached, pairs = met.split("/")
        assert pairs == "2" and 0 <= int(reached) <= 2
        assert fast.split("/")[1] == "2" and 0 <= int(fast.split("/")[0]) <= 2
