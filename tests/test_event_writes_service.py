"""Create writes the customer and its event in one store call (``Store.insert_with_event``)
when nothing else joins the write, and inside a write block when subscribers or webhook
endpoints do: the events read back the same either way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from customer_core import CustomerService, InvalidRequestError, MemoryStore, SQLiteStore, Store
from customer_core.events import Event
from customer_core.testing import FakeClock

NOW = 1_764_000_000


_COUNTED = ("insert", "insert_with_event", "replace", "event_add")


class _CountingStore(MemoryStore):
    """A MemoryStore whose write calls are counted (by wrappers on the instance: a
    subclass overriding them would take the port's default path), and which can refuse
    the first invoice prefixes it is given."""

    def __init__(self, refuse_prefixes: int = 0) -> None:
        super().__init__()
        self.calls: list[str] = []
        self._refuse = refuse_prefixes
        for name in _COUNTED:
            setattr(self, name, self._counted(name, getattr(self, name)))

    def _counted(self, name: str, method: Callable[..., None]) -> Callable[..., None]:
        def counted(record: Any, *parts: Any) -> None:
            self.calls.append(name)
            if name.startswith("insert") and self._refuse:
                self._refuse -= 1
                # Another customer holds the prefix: the service tries another one.
                self.reserve_invoice_prefix(record["invoice_prefix"], "cus_someone_else")
            method(record, *parts)

        return counted


def _service(store: Store, seed: int = 3) -> CustomerService:
    return CustomerService(store, clock=FakeClock(NOW), seed=seed)


def test_a_create_with_no_one_listening_is_one_store_call() -> None:
    store = _CountingStore()
    svc = _service(store)
    customer = svc.execute(
        "create", {"email": "jenny@example.com"}, request_id="req_1", idempotency_key="k1"
    )
    assert store.calls == ["insert_with_event"]
    (event,) = svc.events.list().data
    assert event.type == "customer.created"
    assert event.data.object["id"] == customer.id
    assert event.data.object["email"] == "jenny@example.com"
    assert event.pending_webhooks == 0
    assert (event.request.id, event.request.idempotency_key) == ("req_1", "k1")


def test_with_a_subscriber_the_create_is_written_in_a_block_and_published() -> None:
    store = _CountingStore()
    svc = _service(store)
    seen: list[Event] = []
    svc.subscribe(seen.append)
    customer = svc.create(email="jenny@example.com")
    assert store.calls == ["insert", "event_add"]
    assert [(event.type, event.data.object["id"]) for event in seen] == [
        ("customer.created", customer.id)
    ]
    assert seen[0].id == svc.events.list().data[0].id


def test_with_an_endpoint_the_create_writes_its_delivery_in_the_same_block() -> None:
    store = _CountingStore()
    svc = _service(store)
    svc.webhook_endpoints.create(url="http://127.0.0.1:9/hook", enabled_events=["*"])
    svc.create(email="jenny@example.com")
    assert store.calls == ["insert", "event_add"]
    (event,) = svc.events.list().data
    assert event.pending_webhooks == 1
    assert store.outbox_pending([event.id]) == {event.id: 1}


def test_a_generated_prefix_taken_is_retried_with_the_same_event() -> None:
    store = _CountingStore(refuse_prefixes=2)
    svc = _service(store)
    customer = svc.create(email="jenny@example.com")
    assert store.calls == ["insert_with_event"] * 3
    (event,) = svc.events.list().data
    assert event.data.object["invoice_prefix"] == customer.invoice_prefix
    assert store.get(customer.id) == event.data.object
    store.check_consistency()


def test_a_given_prefix_taken_records_no_event() -> None:
    store = _CountingStore()
    svc = _service(store)
    svc.create(invoice_prefix="JENNY01")
    with pytest.raises(InvalidRequestError) as raised:
        svc.create(invoice_prefix="JENNY01")
    assert raised.value.param == "invoice_prefix"
    assert len(svc.events.list().data) == 1
    assert len(svc.list().data) == 1


def test_the_two_paths_record_the_same_events() -> None:
    """A seeded service records byte-for-byte the same events whether its writes go
    through one store call or through a block (a subscriber forces the block)."""
    direct, blocked = _service(MemoryStore(), seed=9), _service(MemoryStore(), seed=9)
    blocked.subscribe(lambda event: None)
    for svc in (direct, blocked):
        customer = svc.create(email="a@example.com", metadata={"plan": "gold"})
        svc.update(customer.id, metadata={"plan": "silver"}, name="A")
        svc.create(email="b@example.com", idempotency_key="key-1")
        svc.delete(customer.id)
    assert [event.to_dict() for event in direct.events.list().data] == [
        event.to_dict() for event in blocked.events.list().data
    ]


class _HeldMemoryStore(MemoryStore):
    """A test double that overrides ``insert`` (to hold or watch writes)."""

    def insert(self, record: dict[str, Any]) -> None:
        self.seen.append(record["id"])
        super().insert(record)

    seen: list[str] = []


class _HeldSQLiteStore(SQLiteStore):
    def event_add(self, *parts: Any) -> None:
        self.seen.append(parts[0])
        super().event_add(*parts)

    seen: list[str] = []


def test_a_store_subclass_overriding_a_write_still_sees_it_called(tmp_path: Path) -> None:
    """The one-call write is the store's own: a subclass that overrides ``insert`` or
    ``event_add`` (a test double) gets the port's default, built on them."""
    memory = _HeldMemoryStore()
    memory.seen = []
    svc = _service(memory)
    customer = svc.create(email="jenny@example.com")
    assert memory.seen == [customer.id]
    assert [event.type for event in svc.events.list().data] == ["customer.created"]
    with _HeldSQLiteStore(tmp_path / "held.db") as sqlite:
        sqlite.seen = []
        svc = _service(sqlite)
        svc.create(email="jenny@example.com")
        (event,) = svc.events.list().data
        assert sqlite.seen == [event.id]
        sqlite.check_consistency()
