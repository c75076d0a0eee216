"""What a test suite feels: snapshot restores, a fresh fixture, an SDK call in-process.

``python -m benchmarks.testing_bench`` prints three tables (figures in RESULTS.md):

- restore: ``svc.restore(snapshot)`` of a service holding N customers (and ``snapshot()``);
- fixture: building what the ``customer_service`` fixture builds, alone, and the cost per
  test of asking pytest for it (2,000 generated tests with it, against the same without);
- SDK: a create and a retrieve through the ``stripe_client`` fixture's transport
  (``StripeHTTPClient`` on a seeded memory service) against the same SDK call on a
  transport that returns a canned response (the SDK's own cost). Rounds alternate and
  the ratio is the median of per-round ratios: the machine is shared and noisy. Each
  call is timed on the wall clock and in this thread's CPU time (``time.thread_time``),
  which leaves out the time the thread waited for a core while other processes ran.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import stripe

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store
from customer_core.testing import FakeClock, StripeHTTPClient
from customer_core.testing.pytest_plugin import API_KEY, NOW, SEED

from .run import params_for


def _seconds(operation: Callable[[], object], repeat: int) -> float:
    """Median seconds of one call over ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        operation()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- restore --------------------------------------------------------------------------------


def restore_rows(sizes: list[int], directory: Path) -> list[dict[str, Any]]:
    rows = []
    for kind in ("memory", "sqlite"):
        for size in sizes:
            store: Store = (
                MemoryStore()
                if kind == "memory"
                else SQLiteStore(directory / f"restore-{size}.db", synchronous="NORMAL")
            )
            with store:
                service = CustomerService(store, clock=FakeClock(NOW), seed=SEED)
                with service.batch():
                    for n in range(size):
                        service.create(**params_for(n))
                repeat = 30 if kind == "memory" else 5
                snapshot = service.snapshot()
                snapshot_ms = _seconds(service.snapshot, repeat) * 1000

                timings: list[float] = []
                for _ in range(repeat):
                    service.create(email="changed@example.com")
                    start = time.perf_counter()
                    service.restore(snapshot)
                    timings.append(time.perf_counter() - start)
                assert service.store.count() == size
                rows.append(
                    {
                        "store": kind,
                        "customers": size,
                        "snapshot ms": snapshot_ms,
                        "restore ms": statistics.median(timings) * 1000,
                        "restore min ms": min(timings) * 1000,
                    }
                )
    return rows


# --- fixture ----------------------------------------------------------------------------------


def fresh_service() -> CustomerService:
    """What the ``customer_service`` fixture builds (memory store)."""
    return CustomerService(MemoryStore(), clock=FakeClock(NOW), seed=SEED)


# One pytest process runs tests with the fixture and tests without it, interleaved; a
# conftest times each test's setup and teardown (where fixtures are built and closed).
_FIXTURE_TESTS = """
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_with(n, customer_service):
    pass

@pytest.mark.parametrize("n", range({count}))
def test_without(n):
    pass
"""
_TIMING_CONFTEST = """
import json, os, time
import pytest

TOTALS = {{}}


def _add(item, start):
    elapsed = time.perf_counter() - start
    totals = TOTALS.setdefault({kind}, {{}})
    totals[item.nodeid] = totals.get(item.nodeid, 0.0) + elapsed
{hooks}

def pytest_sessionfinish(session):
    times = {{kind: list(totals.values()) for kind, totals in TOTALS.items()}}
    with open(os.environ["FIXTURE_TIMES"], "w") as out:
        json.dump(times, out)
"""
_PHASE_HOOK = """

@pytest.hookimpl(wrapper=True)
def pytest_runtest_{phase}({arguments}):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        _add(item, start)
"""


def timing_conftest(kind: str, phases: Sequence[str]) -> str:
    """A conftest that times each test's ``phases`` (``setup``, ``call``, ``teardown``)
    and at the session's end writes each kind's per-test totals, in seconds and in the
    order the tests ran, as JSON (``{kind: [total, ...]}``) to the file
    ``$FIXTURE_TIMES``; ``kind`` is a Python expression of the test ``item``. The
    fixture benchmarks here and in ``plugin_sqlite_bench`` run their tests with it."""
    hooks = "".join(
        _PHASE_HOOK.format(
            phase=phase, arguments="item, nextitem" if phase == "teardown" else "item"
        )
        for phase in phases
    )
    return _TIMING_CONFTEST.format(kind=kind, hooks=hooks)


def fixture_row(directory: Path, count: int) -> dict[str, Any]:
    """Build alone, and per test through pytest: median setup + teardown with the fixture
    minus the same without it (pytest's own per-test work cancels out)."""
    alone_ms = _seconds(fresh_service, 2000) * 1000
    (directory / "test_fixture_cost.py").write_text(_FIXTURE_TESTS.format(count=count))
    (directory / "conftest.py").write_text(
        timing_conftest('item.originalname.removeprefix("test_")', ("setup", "teardown"))
    )
    times_path = directory / "times.json"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_fixture_cost.py"],
        cwd=directory,
        check=True,
        capture_output=True,
        env={**os.environ, "FIXTURE_TIMES": str(times_path)},
    )
    times = json.loads(times_path.read_text())
    # Setup and teardown are timed separately: two entries per test.
    with_it, without = (statistics.median(times[kind]) * 2 * 1000 for kind in ("with", "without"))
    return {
        "build alone ms": alone_ms,
        "setup+teardown with it ms": with_it,
        "without ms": without,
        "fixture per test ms": with_it - without,
    }


# --- SDK ----------------------------------------------------------------------------------------


class CannedHTTPClient(stripe.HTTPClient):
    """The SDK's own cost: a transport answering every request with one canned body."""

    name = "canned"

    def __init__(self, body: str, headers: Mapping[str, str]) -> None:
        super().__init__()
        self._body = body
        self._headers = dict(headers)

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        return self._body, 200, self._headers

    def close(self) -> None:
        pass


CANNED_BODIES = ("compact", "served")


def canned_body(made: Any, kind: str) -> str:
    """The canned transport's body for the customer ``made``: ``compact`` is
    ``json.dumps`` of the SDK's object (what this benchmark always used), ``served`` the
    very text the in-process call answered, pretty-printed as Stripe sends it. The SDK
    does more with the second: its debug log line, formatted on every call whether
    logging is on or not, ``repr``s a body that holds newlines character by character."""
    if kind == "served":
        served: str = made.last_response.body
        return served
    return json.dumps(
        made.to_dict_recursive() if hasattr(made, "to_dict_recursive") else made.to_dict()
    )


def sdk_rows(ops: int, rounds: int, body_kind: str = "compact") -> list[dict[str, Any]]:
    service = CustomerService(MemoryStore(), clock=FakeClock(NOW), seed=SEED)
    in_process = stripe.StripeClient(API_KEY, http_client=StripeHTTPClient(service))
    params = params_for(0)
    made = in_process.v1.customers.create(params=params)
    response = made.last_response
    body = canned_body(made, body_kind)
    canned = stripe.StripeClient(API_KEY, http_client=CannedHTTPClient(body, response.headers))
    calls: dict[str, Callable[[stripe.StripeClient], object]] = {
        "create": lambda client: client.v1.customers.create(params=params),
        "retrieve": lambda client: client.v1.customers.retrieve(made.id),
    }
    rows = []
    wall, cpu = time.perf_counter, time.thread_time
    for name, call in calls.items():
        ratios, ours, floors, cpu_ratios, cpu_ours, cpu_floors = [], [], [], [], [], []
        for _ in range(rounds):
            # Calls alternate one by one, so both sides see the same load on a shared machine.
            in_process_seconds = canned_seconds = in_process_cpu = canned_cpu = 0.0
            for _ in range(ops):
                start, start_cpu = wall(), cpu()
                call(canned)
                middle, middle_cpu = wall(), cpu()
                call(in_process)
                end, end_cpu = wall(), cpu()
                canned_seconds += middle - start
                in_process_seconds += end - middle
                canned_cpu += middle_cpu - start_cpu
                in_process_cpu += end_cpu - middle_cpu
            ours.append(in_process_seconds / ops)
            floors.append(canned_seconds / ops)
            ratios.append(in_process_seconds / canned_seconds)
            cpu_ours.append(in_process_cpu / ops)
            cpu_floors.append(canned_cpu / ops)
            cpu_ratios.append(in_process_cpu / canned_cpu)
        rows.append(
            {
                "call": name,
                "in-process µs": statistics.median(ours) * 1e6,
                "canned µs": statistics.median(floors) * 1e6,
                "ratio": statistics.median(ratios),
                "in-process CPU µs": statistics.median(cpu_ours) * 1e6,
                "canned CPU µs": statistics.median(cpu_floors) * 1e6,
                "CPU ratio": statistics.median(cpu_ratios),
            }
        )
    return rows


# --- main -------------------------------------------------------------------------------------


def _table(rows: list[dict[str, Any]]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [
            f"{value:,.3f}"
            if isinstance(value, float)
            else f"{value:,}"
            if isinstance(value, int)
            else str(value)
            for value in row.values()
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--tests", type=int, default=2000, help="generated tests per fixture run")
    parser.add_argument("--ops", type=int, default=500, help="SDK calls per round")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--sdk-only", action="store_true", help="only the SDK table (no restore, no fixture)"
    )
    parser.add_argument(
        "--canned-body",
        choices=CANNED_BODIES,
        default="compact",
        help="the canned transport's body: json.dumps of the customer (compact, the default "
        "so far) or the in-process answer's own pretty-printed text (served)",
    )
    args = parser.parse_args(argv)
    print(
        f"# customer_core testing benchmarks, {time.strftime('%Y-%m-%d %H:%M')}, stripe {stripe.VERSION}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        if not args.sdk_only:
            print("\n## restore (median ms)\n")
            print(_table(restore_rows(args.sizes, directory)))
            print("\n## customer_service fixture (ms)\n")
            print(_table([fixture_row(directory, args.tests)]))
    print(
        "\n## SDK call through stripe_client vs a canned transport "
        f"({args.canned_body} body; median of rounds)\n"
    )
    print(_table(sdk_rows(args.ops, args.rounds, args.canned_body)))


if __name__ == "__main__":
    main()
