"""Purges run inside writes, so each removes at most a limit of rows: a backlog of expired
events or idempotency entries (after a long pause) is worked off in bites over the next
writes, and steady state still removes everything expired."""

from __future__ import annotations

from typing import Any

import pytest

from customer_core import CustomerService, Store, idempotency
from customer_core.events import delivery, recording
from customer_core.events.delivery import DeliveryWorker
from customer_core.testing import FakeClock
from customer_core.testing.contract_outbox import make_attempt

from .conftest import NOW


def _spy(monkeypatch: pytest.MonkeyPatch, store: Store, name: str) -> list[tuple[int, int]]:
    """The ``(limit, removed)`` of each call of the store's purge ``name`` from now on."""
    calls: list[tuple[int, int]] = []
    purge = getattr(store, name)

    def spied(*, before: Any, limit: int) -> int:
        removed: int = purge(before=before, limit=limit)
        calls.append((limit, removed))
        return removed

    monkeypatch.setattr(store, name, spied)
    return calls


def test_a_backlog_of_expired_events_goes_in_bites_over_several_writes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "PURGE_EVERY", 4)
    monkeypatch.setattr(recording, "PURGE_LIMIT", 3)
    clock = FakeClock(NOW)
    service = CustomerService(store, clock=clock, seed=7, event_retention=100)
    for number in range(10):
        service.create(name=f"old {number}")  # events 1, 5 and 9 purge, nothing yet
    calls = _spy(monkeypatch, store, "event_purge")
    clock.advance(1000)  # the 10 events expire
    removed_by_write = []
    for number in range(10):
        before = len(calls)
        service.create(name=f"new {number}")
        removed_by_write.append([removed for _, removed in calls[before:]])
    # Write 2 is the 4th event since the last purge: it takes 3, and while a purge takes its
    # whole limit the next write purges again; then every 4th event purges once more.
    assert removed_by_write == [[], [], [3], [3], [3], [1], [], [], [], [0]]
    assert all(limit == 3 for limit, _ in calls)
    kept = store.event_scan()
    assert [event["data"]["object"]["name"] for event in kept] == [
        f"new {number}" for number in reversed(range(10))
    ]


def test_the_first_event_of_a_service_purges(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # A short-lived process (the CLI) records a few events and ends: it purges too.
    clock = FakeClock(NOW)
    CustomerService(store, clock=clock, event_retention=100).create(name="old")
    clock.advance(1000)
    calls = _spy(monkeypatch, store, "event_purge")
    CustomerService(store, clock=clock, event_retention=100).create(name="new")
    assert calls == [(recording.PURGE_LIMIT, 1)]
    assert [event["data"]["object"]["name"] for event in store.event_scan()] == ["new"]


def test_a_backlog_of_expired_idempotency_keys_goes_in_bites(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "PURGE_EVERY", 3)
    monkeypatch.setattr("customer_core.service.PURGE_LIMIT", 2)
    clock = FakeClock(NOW)
    service = CustomerService(store, clock=clock, seed=7, idempotency_ttl=100, events=False)
    for number in range(5):
        service.create(idempotency_key=f"old-{number}", name=f"old {number}")
    calls = _spy(monkeypatch, store, "idempotency_purge")
    clock.advance(1000)
    removed_by_write = []
    for number in range(6):
        before = len(calls)
        service.create(idempotency_key=f"new-{number}")
        removed_by_write.append([removed for _, removed in calls[before:]])
    # The first write and the 4th purged (nothing expired then); the 2nd of these is the
    # 3rd write since: it takes 2, and the next writes purge again until one takes less.
    assert removed_by_write == [[], [2], [2], [1], [], []]
    assert all(limit == 2 for limit, _ in calls)
    assert [store.idempotency_get(f"old-{n}") for n in range(5)] == [None] * 5
    assert all(store.idempotency_get(f"new-{n}") is not None for n in range(6))


def test_the_delivery_worker_purges_again_next_round_while_a_purge_takes_its_limit(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "PURGE_LIMIT", 2)
    clock = FakeClock(NOW)
    service = CustomerService(store, clock=clock, seed=7)
    store.outbox_settle([], [make_attempt(f"wda_{n}", 100 + n) for n in range(5)])
    calls = _spy(monkeypatch, store, "outbox_purge")
    worker = DeliveryWorker(service.webhooks, sender_process=False)  # not started
    for _ in range(5):
        worker._dispatch_once()
    assert calls == [(2, 2), (2, 2), (2, 1)]  # then an hour until the next
    assert store.delivery_attempt_scan() == []
