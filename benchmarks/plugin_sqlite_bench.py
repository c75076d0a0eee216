"""What the SQLite ``customer_service`` fixture costs a test (``--customer-core-store=sqlite``).

``python -m benchmarks.plugin_sqlite_bench`` runs one pytest process with three kinds of
generated tests, interleaved (test 1 of each kind, then test 2 of each, ...):

- ``plugin``: the plugin's ``customer_service`` on SQLite (a copy of a template file
  made once per run);
- ``fresh``: the same service on a new file whose schema is made by the store, as the
  fixture did before (every migration, per test): the before side, in the same run;
- ``bare``: no fixture (pytest's own per-test work, and ``tmp_path``'s, cancel out).

A conftest (``testing_bench.timing_conftest``) times each test's setup, call and
teardown; the table gives the median per kind, the cost per test (minus ``bare``) and the
ratio fresh / plugin, with the load average before and after. Each test makes and lists one customer, so the file is a working one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .testing_bench import _table, timing_conftest

KINDS = ("plugin", "fresh", "bare")

_TESTS = """
import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.testing import FakeClock
from customer_core.testing.pytest_plugin import NOW, SEED


@pytest.fixture
def fresh_service(tmp_path):
    with SQLiteStore(tmp_path / "customers.db", synchronous="NORMAL") as store:
        yield CustomerService(store, clock=FakeClock(NOW), seed=SEED)


def use(service):
    made = service.create(email="jenny@example.com")
    assert [customer.id for customer in service.list().data] == [made.id]


@pytest.mark.parametrize("kind", {kinds!r})
@pytest.mark.parametrize("n", range({count}))
def test_kind(kind, n, request, tmp_path):
    if kind == "plugin":
        use(request.getfixturevalue("customer_service"))
    elif kind == "fresh":
        use(request.getfixturevalue("fresh_service"))
"""


def fixture_rows(directory: Path, count: int) -> list[dict[str, Any]]:
    """Median ms per test of each kind (setup, call and teardown), one pytest run."""
    (directory / "test_sqlite_fixture.py").write_text(
        # kind's parametrize on top: pytest orders the kinds inside each n (interleaved).
        _TESTS.format(count=count, kinds=KINDS)
    )
    (directory / "conftest.py").write_text(
        timing_conftest('item.callspec.params["kind"]', ("setup", "call", "teardown"))
    )
    times_path = directory / "times.json"
    load_before = os.getloadavg()[0]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--customer-core-store=sqlite",
            "test_sqlite_fixture.py",
        ],
        cwd=directory,
        check=True,
        capture_output=True,
        env={**os.environ, "FIXTURE_TIMES": str(times_path)},
    )
    load = f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}"
    times = json.loads(times_path.read_text())
    medians = {kind: statistics.median(times[kind]) * 1000 for kind in KINDS}
    return [
        {
            "kind": kind,
            "tests": len(times[kind]),
            "median per test ms": medians[kind],
            "minus bare ms": medians[kind] - medians["bare"],
            "load": load,
        }
        for kind in KINDS
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=500, help="generated tests per kind")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as name:
        rows = fixture_rows(Path(name), args.tests)
    print(_table(rows))
    plugin, fresh = (row["minus bare ms"] for row in rows[:2])
    print(f"\nfresh / plugin (minus bare): {fresh / plugin:.1f}")


if __name__ == "__main__":
    main()
