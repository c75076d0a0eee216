"""A seeded service on a store that already holds data goes on from it: a restarted
``serve --seed N --frozen-time T`` never makes its last run's ids again (trial 3, 1)."""

from __future__ import annotations

from pathlib import Path

from customer_core import CustomerService, MemoryStore, SQLiteStore
from customer_core.ids import EventIdGenerator, IdGenerator

NOW = 1_700_000_000


def _run(data: Path, email: str) -> tuple[str, str, str]:
    """One seeded, frozen-clock run on ``data``: a customer, its event, an endpoint."""
    with SQLiteStore(data) as store:
        service = CustomerService(store, clock=lambda: NOW, seed=1)
        customer = service.create(email=email)
        endpoint = service.webhook_endpoints.create(
            url=f"http://127.0.0.1:9/{email}", enabled_events=["*"]
        )
        event = service.events.list(limit=1).data[0]
        return customer.id, event.id, endpoint.id


def test_each_restart_makes_new_ids_and_keeps_the_old_records(tmp_path: Path) -> None:
    data = tmp_path / "customers.db"
    runs = [_run(data, f"run{n}@example.com") for n in range(3)]
    assert len({id for run in runs for id in run}) == 9
    with SQLiteStore(data) as store:
        service = CustomerService(store)
        assert [c.email for c in service.list().data] == [
            "run2@example.com",
            "run1@example.com",
            "run0@example.com",
        ]
        assert len(service.webhook_endpoints.list().data) == 3


def test_the_same_seed_on_the_same_data_still_gives_the_same_ids(tmp_path: Path) -> None:
    data = tmp_path / "customers.db"
    first = _run(data, "first@example.com")
    copy = tmp_path / "copy.db"
    with SQLiteStore(data) as store:
        store.backup(str(copy))
    assert _run(data, "second@example.com") == _run(copy, "second@example.com")
    # and an empty store keeps the plain seed: the first run's ids again
    assert _run(tmp_path / "other.db", "first@example.com") == first


def test_a_seeded_service_on_an_empty_store_is_unchanged() -> None:
    made = [CustomerService(MemoryStore(), clock=lambda: NOW, seed=1).create().id for _ in range(2)]
    assert made[0] == made[1]


def test_an_id_that_is_not_ours_changes_nothing() -> None:
    fresh, going_on = IdGenerator(lambda: NOW, seed=1), IdGenerator(lambda: NOW, seed=1)
    going_on.start_after("cus_NffrFeUfNV2Hib")  # an imported Stripe id: no ULID
    assert going_on.customer_id() == fresh.customer_id()


def test_ids_go_on_above_the_newest_even_on_a_frozen_clock() -> None:
    first = IdGenerator(lambda: NOW, seed=1)
    newest = [first.customer_id() for _ in range(3)][-1]
    again = IdGenerator(lambda: NOW, seed=1)
    again.start_after(newest)
    made = again.customer_id()
    assert made > newest and made[:14] == newest[:14]  # the same millisecond, above it
    events = EventIdGenerator(lambda: NOW, seed=1)
    newest_event = events.event_id()
    later = EventIdGenerator(lambda: NOW, seed=1)
    later.start_after(newest_event)
    assert later.event_id() > newest_event


def _frozen_run(data: Path, email: str, now: int = NOW) -> tuple[str, str]:
    """A seeded run frozen at ``now``: a customer and its event."""
    with SQLiteStore(data) as store:
        service = CustomerService(store, clock=lambda: now, seed=42)
        customer = service.create(email=email)
        (event,) = [
            event
            for event in service.events.list(limit=100).data
            if event.data.object["id"] == customer.id and event.type == "customer.created"
        ]
        return customer.id, event.id


def test_runs_frozen_behind_the_stored_records_go_on_above_their_own_ids(tmp_path: Path) -> None:
    # A real-time write makes the newest record by created time; the frozen runs' ids go
    # above it, with older created times (trial 4, 1: the second run answered 500).
    data = tmp_path / "customers.db"
    with SQLiteStore(data) as store:
        real = CustomerService(store).create(email="first@example.com")
    runs = [_frozen_run(data, f"run{n}@example.com") for n in range(3)]
    assert len({id for run in runs for id in run}) == 6
    assert all(customer > real.id for customer, _ in runs)
    with SQLiteStore(data) as store:
        assert len(CustomerService(store).list(limit=10).data) == 4


def test_a_deleted_customer_s_id_is_never_made_again(tmp_path: Path) -> None:
    data = tmp_path / "customers.db"
    with SQLiteStore(data) as store:
        service = CustomerService(store, clock=lambda: NOW, seed=42)
        gone = service.create(email="gone@example.com").id
        service.delete(gone)
    with SQLiteStore(data) as store:
        CustomerService(store).create(email="real-time@example.com")  # newest by created
    made = [_frozen_run(data, f"run{n}@example.com") for n in range(2)]
    assert gone not in {customer for customer, _ in made}
    assert len({id for run in made for id in run}) == 4


def test_an_earlier_frozen_time_after_a_later_one(tmp_path: Path) -> None:
    data = tmp_path / "customers.db"
    later = _frozen_run(data, "later@example.com", NOW + 100)
    runs = [_frozen_run(data, f"run{n}@example.com") for n in range(2)]
    assert len({later, *runs}) == 3 and len({id for run in runs for id in run}) == 4


def test_a_free_next_id_is_peeked_at_not_used() -> None:
    # With nothing taken above the newest, going on is start_after alone: the same ids.
    store = MemoryStore()
    CustomerService(store, clock=lambda: NOW, seed=1).create(email="a@example.com")
    newest = store.scan(limit=1)[0]["id"]
    plain = IdGenerator(lambda: NOW, seed=3)
    plain.start_after(newest)
    assert CustomerService(store, clock=lambda: NOW, seed=3).create().id == plain.customer_id()
