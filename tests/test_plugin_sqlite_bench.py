"""The SQLite fixture benchmark runs end to end at a tiny size and prints its table."""

from __future__ import annotations

from .benchmark_tables import printed_lines


def test_the_sqlite_fixture_benchmark_prints_its_table() -> None:
    lines = printed_lines("plugin_sqlite_bench", "--tests", "5", timeout=300)
    assert lines[0] == "| kind | tests | median per test ms | minus bare ms | load |"
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in lines[2:5]}
    assert sorted(rows) == ["bare", "fresh", "plugin"]
    assert all(int(row[0]) == 5 for row in rows.values())
    assert float(rows["bare"][2]) == 0
    assert lines[-1].startswith("fresh / plugin (minus bare): ")
