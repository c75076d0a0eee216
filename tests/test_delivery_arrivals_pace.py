"""A delivery process paces itself while deliveries keep arriving in the store (its API is
busy), issue 13 item 10, eighth pass: PostgreSQL counts the deliveries added since a mark
(``Store.outbox_arrivals``), a worker without a CPU budget takes at most ``busy_rate`` a
second while they arrive and what it can while they do not, and ``customer-core deliver
--busy-rate`` sets the pace. Every wait is for a condition with a deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from customer_core import CustomerService, MemoryStore, SQLiteStore, Store
from customer_core.cli import DELIVER_BUSY_RATE, _parser, worker_options
from customer_core.errors import StoreError
from customer_core.events.delivery import (
    ARRIVALS_WINDOW,
    BUSY_ARRIVALS,
    DeliveryWorker,
    _Arrivals,
    _Pace,
)
from customer_core.store.base import Record
from customer_core.testing.receiver import WebhookReceiver

from .conftest import IN_CI, POSTGRES_MISSING, STORE_FACTORIES
from .test_webhook_delivery import FAST, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# --- the store's count ----------------------------------------------------------------------


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[Store]:
    if POSTGRES_MISSING is not None and not IN_CI:
        pytest.skip(POSTGRES_MISSING)
    with STORE_FACTORIES["postgres"](tmp_path) as store:
        yield store
        store.check_consistency()


def delivery(event: str, endpoint: str = "we_1") -> Record:
    return {
        "event": event,
        "endpoint": endpoint,
        "created": 1.0,
        "next_attempt": 1.0,
        "attempts": 0,
        "status": "pending",
    }


def test_postgresql_counts_the_deliveries_added_since_a_mark(postgres: Store) -> None:
    from customer_core.store.postgres import ARRIVALS_COUNTED

    assert postgres.outbox_arrivals(None) == (0, None)  # an empty outbox: no mark yet
    postgres.outbox_add([delivery("evt_01A"), delivery("evt_01A", "we_2"), delivery("evt_01B")])
    assert postgres.outbox_arrivals(None) == (0, "evt_01B")  # the first call counts none
    postgres.outbox_add([delivery("evt_01C"), delivery("evt_01D"), delivery("evt_01D", "we_2")])
    assert postgres.outbox_arrivals("evt_01B") == (3, "evt_01D")
    assert postgres.outbox_arrivals("evt_01D") == (0, "evt_01D")
    # Delivered (removed) before the next look: not counted, and the mark stays.
    postgres.outbox_add([delivery("evt_01E")])
    postgres.outbox_settle([{**delivery("evt_01E"), "status": "succeeded"}], [])
    postgres.outbox_settle(
        [{**delivery(e, p), "status": "succeeded"} for e, p in [("evt_01C", "we_1")]], []
    )
    assert postgres.outbox_arrivals("evt_01D") == (0, "evt_01D")
    # A claim (a lease) or a retry changes no count: only added deliveries are arrivals.
    postgres.outbox_claim(2.0, 60.0, 10)
    assert postgres.outbox_arrivals("evt_01D") == (0, "evt_01D")
    # A look counts ARRIVALS_COUNTED at most: enough to tell a busy API, at a bounded cost.
    postgres.outbox_add([delivery(f"evt_02{n:03}") for n in range(ARRIVALS_COUNTED + 5)])
    newest = f"evt_02{ARRIVALS_COUNTED + 4:03}"
    assert postgres.outbox_arrivals("evt_01D") == (ARRIVALS_COUNTED, newest)
    assert postgres.outbox_arrivals(f"evt_02{ARRIVALS_COUNTED - 1:03}") == (5, newest)


def test_other_stores_cannot_count_arrivals_and_their_delivery_process_is_not_paced(
    tmp_path: Path,
) -> None:
    for store in (MemoryStore(), SQLiteStore(tmp_path / "customers.db")):
        with store:
            assert store.outbox_arrivals(None) is None
            worker = DeliveryWorker(CustomerService(store).webhooks, cpu_share=None)
            assert worker._pace is None


# --- the worker's view of them ---------------------------------------------------------------


class ArrivingStore(MemoryStore):
    """A memory store that says ``per_look`` deliveries arrived at each look (or fails to
    say, with ``failing``), and records the limits its claims were given."""

    def __init__(self, per_look: int = 0) -> None:
        super().__init__()
        self.per_look = per_look
        self.failing = False
        self.looks = 0
        self.claim_limits: list[int] = []

    def outbox_arrivals(self, mark: str | None) -> tuple[int, str | None] | None:
        if self.failing:
            raise StoreError("the database is down")
        self.looks += 1
        return (0 if mark is None else self.per_look), "mark"

    def outbox_claim(self, now: float, lease_until: float, limit: int) -> list[Record]:
        self.claim_limits.append(limit)
        return super().outbox_claim(now, lease_until, limit)


def test_arrivals_make_the_api_busy_at_twenty_a_second_looked_at_once_a_window() -> None:
    store, clock = ArrivingStore(per_look=1), FakeClock()
    arrivals = _Arrivals(store, "mark", window=0.05, clock=clock)
    assert arrivals.busy() is False  # no window has passed: nothing counted yet
    assert store.looks == 0
    clock.now += 0.05
    assert arrivals.busy() is True  # one in 50 ms: 20 a second
    assert BUSY_ARRIVALS == 20.0
    clock.now += 0.01
    store.per_look = 0
    assert arrivals.busy() is True  # within the window: the last answer, no look
    assert store.looks == 1
    clock.now += 0.05
    assert arrivals.busy() is False  # none arrived
    store.per_look = 5
    clock.now += 1.0
    assert arrivals.busy() is False  # 5 in a second: a trickle, not a busy API
    store.per_look = 30
    clock.now += 1.0
    assert arrivals.busy() is True
    store.failing = True
    clock.now += 1.0
    assert arrivals.busy() is True  # a failed look keeps the last answer
    assert _Arrivals.of(store) is not None  # an outage at the start: it may count later
    assert _Arrivals.of(MemoryStore()) is None  # a store that cannot count


def run_worker(store: ArrivingStore, busy_rate: float | None) -> list[int]:
    service = CustomerService(store)
    with WebhookReceiver() as receiver:
        service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        with service.batch():
            for n in range(120):
                service.create(email=f"c{n}@example.com")
        worker = DeliveryWorker(
            service.webhooks, retry=FAST, cpu_share=None, busy_rate=busy_rate, batch_size=100
        )
        time.sleep(ARRIVALS_WINDOW * 1.5)  # the first round's look ends a window
        with worker.start():
            wait_until(lambda: store.outbox_next_due() is None, "every delivery")
            limits = list(store.claim_limits)  # (the stop's last look is not paced)
    assert receiver.count == 120
    return limits


def test_a_worker_without_a_budget_is_paced_while_deliveries_keep_arriving() -> None:
    limits = run_worker(ArrivingStore(per_look=1_000), busy_rate=200.0)
    # Chunks of 200/s x 0.05 s = 10, four lingers' worth (0.04 s) or two chunks saved at
    # most: never the batch size of 100, and everything delivered all the same.
    assert len(limits) >= 6 and max(limits) <= 20


def test_a_worker_without_a_budget_takes_whole_batches_when_nothing_arrives() -> None:
    store = ArrivingStore(per_look=0)
    limits = run_worker(store, busy_rate=200.0)
    assert limits[0] == 100 and store.looks >= 2  # looked, found none arriving


def test_a_pace_saves_up_to_its_saved_seconds_for_late_rounds() -> None:
    clock = FakeClock()
    pace = _Pace(100.0, window=0.1, saved=0.5, clock=clock)  # chunks of 10, 50 saved
    pace.take(10)
    clock.now += 10
    assert pace.allowance() == 50
    assert _Pace(100.0, window=0.1, saved=0.1, clock=clock).allowance() == 10
    small = _Pace(100.0, window=0.1, saved=0.1, clock=clock)
    clock.now += 10
    assert small.allowance() == 20  # two chunks at least


# --- customer-core deliver --busy-rate -------------------------------------------------------


def test_deliver_takes_a_busy_rate_and_zero_turns_the_pace_off() -> None:
    def options(*argv: str) -> object:
        return worker_options(_parser().parse_args(["deliver", *argv]))["busy_rate"]

    assert DELIVER_BUSY_RATE == 700.0
    assert options() == 700.0
    assert options("--busy-rate", "550") == 550.0
    assert options("--busy-rate", "0") is None
