"""Tax ID events (issue 13): ``customer.tax_id.created`` and ``customer.tax_id.deleted``
recorded with the change, ``data.object`` the tax ID, on every store; listed and filtered
(``customer.tax_id.*``, ``customer.*``), published to subscribers, delivered to endpoints
that ask for them, through the service and over HTTP with the official SDK.

Every wait is for a condition with a deadline, never a fixed sleep."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from customer_core import CustomerService, InvalidRequestError, SQLiteStore, Store
from customer_core.events import Event
from customer_core.store.sqlite import MIGRATIONS, SCHEMA_VERSION
from customer_core.testing import FakeClock
from customer_core.testing.receiver import WebhookReceiver

from .test_http import API_KEY, RunningServer
from .test_webhook_delivery import FAST, wait_until

TAX_ID_TYPES = ["customer.tax_id.created", "customer.tax_id.deleted", "customer.tax_id.updated"]


def events_of(service: CustomerService) -> list[dict[str, Any]]:
    """Every stored event, oldest first."""
    events: list[dict[str, Any]] = service.store.snapshot()["events"]
    return events


def types_of(service: CustomerService) -> list[str]:
    return [event["type"] for event in events_of(service)]


# --- what is recorded, through the service -------------------------------------------------


def test_adding_a_tax_id_records_customer_tax_id_created(
    service: CustomerService, clock: FakeClock
) -> None:
    customer = service.create(email="jenny@example.com")
    vat = service.tax_ids.create(
        customer.id, type="eu_vat", value="DE123456789", expand=["customer"]
    )
    event = events_of(service)[-1]
    assert event["type"] == "customer.tax_id.created"
    assert list(event) == list(events_of(service)[0])  # the keys of customer.created, in order
    assert event["id"].startswith("evt_") and event["created"] == int(clock())
    # The tax ID as the API shows it unexpanded, whatever the call expanded.
    assert event["data"] == {
        "object": {
            "id": vat.id,
            "object": "tax_id",
            "country": "DE",
            "created": int(clock()),
            "customer": customer.id,
            "customer_account": None,
            "livemode": False,
            "owner": {"customer": customer.id, "customer_account": None, "type": "customer"},
            "type": "eu_vat",
            "value": "DE123456789",
            "verification": {
                "status": "pending",
                "verified_address": None,
                "verified_name": None,
            },
        }
    }
    assert event["request"] == {"id": None, "idempotency_key": None}
    retrieved = service.events.retrieve(event["id"])
    assert retrieved.type == "customer.tax_id.created"
    assert retrieved.data.object == event["data"]["object"]


def test_tax_id_data_on_create_records_one_event_each_after_customer_created(
    service: CustomerService,
) -> None:
    customer = service.create(
        email="jenny@example.com",
        tax_id_data=[
            {"type": "eu_vat", "value": "DE123456789"},
            {"type": "us_ein", "value": "12-3456789"},
        ],
        idempotency_key="create-with-tax-ids",
    )
    events = events_of(service)
    assert [event["type"] for event in events] == [
        "customer.created",
        "customer.tax_id.created",
        "customer.tax_id.created",
    ]
    assert [event["data"]["object"]["value"] for event in events[1:]] == [
        "DE123456789",
        "12-3456789",
    ]
    assert events[0]["data"]["object"]["id"] == customer.id
    assert {event["data"]["object"]["customer"] for event in events[1:]} == {customer.id}
    assert {event["request"]["idempotency_key"] for event in events} == {"create-with-tax-ids"}
    # A replay records nothing new.
    service.create(
        email="jenny@example.com",
        tax_id_data=[
            {"type": "eu_vat", "value": "DE123456789"},
            {"type": "us_ein", "value": "12-3456789"},
        ],
        idempotency_key="create-with-tax-ids",
    )
    assert len(events_of(service)) == 3


def test_deleting_a_tax_id_records_it_as_it_was(service: CustomerService) -> None:
    customer = service.create(email="jenny@example.com")
    vat = service.tax_ids.create(customer.id, type="eu_vat", value="DE123456789")
    service.tax_ids.delete(customer.id, vat.id)
    event = events_of(service)[-1]
    assert event["type"] == "customer.tax_id.deleted"
    assert event["data"] == {"object": vat.to_dict()}  # not the {id, object, deleted} stub
    assert "deleted" not in event["data"]["object"]


def test_deleting_a_customer_records_each_tax_id_deleted_then_the_customer(
    service: CustomerService, clock: FakeClock
) -> None:
    customer = service.create(email="jenny@example.com")
    first = service.tax_ids.create(customer.id, type="eu_vat", value="DE123456789")
    clock.advance(1)
    second = service.tax_ids.create(customer.id, type="us_ein", value="12-3456789")
    other = service.create(email="other@example.com")
    service.tax_ids.create(other.id, type="eu_vat", value="FR12345678901")
    count = len(events_of(service))
    service.delete(customer.id)
    events = events_of(service)[count:]
    assert [(event["type"], event["data"]["object"]["id"]) for event in events] == [
        ("customer.tax_id.deleted", first.id),
        ("customer.tax_id.deleted", second.id),
        ("customer.deleted", customer.id),
    ]
    assert events[0]["data"]["object"] == first.to_dict()


def test_a_failed_tax_id_call_records_nothing(service: CustomerService) -> None:
    customer = service.create(email="jenny@example.com")
    vat = service.tax_ids.create(customer.id, type="eu_vat", value="DE123456789")
    before = events_of(service)
    with pytest.raises(InvalidRequestError):
        service.tax_ids.create("cus_missing", type="eu_vat", value="DE123456789")
    with pytest.raises(InvalidRequestError):
        service.tax_ids.create(customer.id, type="eu_vat", value="not a vat")
    with pytest.raises(InvalidRequestError):
        service.tax_ids.delete(customer.id, "txi_missing")
    with pytest.raises(InvalidRequestError):
        service.create(email="a@example.com", tax_id_data=[{"type": "eu_vat", "value": "bad"}])
    service.tax_ids.delete(customer.id, vat.id)
    with pytest.raises(InvalidRequestError):
        service.tax_ids.delete(customer.id, vat.id)  # gone already
    assert events_of(service) == [*before, events_of(service)[-1]]
    assert types_of(service)[-1] == "customer.tax_id.deleted"


def test_a_replayed_tax_id_create_records_nothing_new(service: CustomerService) -> None:
    customer = service.create(email="jenny@example.com")
    first = service.tax_ids.create(
        customer.id, type="eu_vat", value="DE123456789", idempotency_key="vat-1"
    )
    assert events_of(service)[-1]["request"] == {"id": None, "idempotency_key": "vat-1"}
    count = len(events_of(service))
    again = service.tax_ids.create(
        customer.id, type="eu_vat", value="DE123456789", idempotency_key="vat-1"
    )
    assert again.id == first.id and len(events_of(service)) == count


def test_the_event_is_written_with_the_tax_id_or_neither_is(
    service: CustomerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = service.create(email="jenny@example.com")
    vat = service.tax_ids.create(customer.id, type="eu_vat", value="DE123456789")
    store = service.store
    real_add = store.event_add

    def failing_add(event_id: str, created: int, type: str, *parts: Any) -> None:
        if type.startswith("customer.tax_id."):
            raise RuntimeError("the disk is full")
        real_add(event_id, created, type, *parts)

    # The service records events through event_add (from their parts).
    monkeypatch.setattr(store, "event_add", failing_add)
    before = store.snapshot()
    with pytest.raises(RuntimeError):
        service.tax_ids.create(customer.id, type="us_ein", value="12-3456789")
    with pytest.raises(RuntimeError):
        service.tax_ids.delete(customer.id, vat.id)
    with pytest.raises(RuntimeError):
        service.create(
            email="b@example.com", tax_id_data=[{"type": "us_ein", "value": "12-3456789"}]
        )
    with pytest.raises(RuntimeError):
        service.delete(customer.id)
    assert store.snapshot() == before
    assert [tax_id.id for tax_id in service.tax_ids.list(customer.id).data] == [vat.id]


def test_events_false_records_no_tax_id_event(store: Store, clock: FakeClock) -> None:
    service = CustomerService(store, clock=clock, events=False)
    customer = service.create(tax_id_data=[{"type": "eu_vat", "value": "DE123456789"}])
    vat = service.tax_ids.create(customer.id, type="us_ein", value="12-3456789")
    service.tax_ids.delete(customer.id, vat.id)
    service.delete(customer.id)
    assert store.snapshot()["events"] == []


# --- listing, filters, subscribers, endpoints ------------------------------------------------


@pytest.fixture
def history(service: CustomerService, clock: FakeClock) -> dict[str, str]:
    """customer.created, customer.tax_id.created, customer.updated, customer.tax_id.deleted,
    a second apart; the event ids by type."""
    customer = service.create(email="jenny@example.com")
    clock.advance(1)
    vat = service.tax_ids.create(customer.id, type="eu_vat", value="DE123456789")
    clock.advance(1)
    service.update(customer.id, name="Jenny")
    clock.advance(1)
    service.tax_ids.delete(customer.id, vat.id)
    return {event["type"]: event["id"] for event in events_of(service)}


def _listed(service: CustomerService, **params: Any) -> list[str]:
    return [event.type for event in service.events.list(**params).data]


def test_type_filters_and_wildcards_match_as_stripes_do(
    service: CustomerService, history: dict[str, str]
) -> None:
    assert _listed(service, type="customer.tax_id.created") == ["customer.tax_id.created"]
    assert _listed(service, type="customer.tax_id.*") == [
        "customer.tax_id.deleted",
        "customer.tax_id.created",
    ]
    # A * spans dots: customer.* is every customer event, tax IDs' too.
    assert _listed(service, type="customer.*") == [
        "customer.tax_id.deleted",
        "customer.updated",
        "customer.tax_id.created",
        "customer.created",
    ]
    assert _listed(service, type="*.created") == ["customer.tax_id.created", "customer.created"]
    assert _listed(service, types=["customer.tax_id.deleted", "customer.created"]) == [
        "customer.tax_id.deleted",
        "customer.created",
    ]
    assert _listed(service, type="customer.tax_id.updated") == []  # known, never recorded
    page = service.events.list(type="customer.tax_id.*", limit=1)
    assert page.has_more is True
    after = service.events.list(type="customer.tax_id.*", starting_after=page.data[0].id)
    assert [event.id for event in after.data] == [history["customer.tax_id.created"]]


def test_subscribers_get_tax_id_events_after_the_commit(service: CustomerService) -> None:
    seen: list[Event] = []
    everything: list[str] = []
    service.subscribe(seen.append, types=["customer.tax_id.*"])
    service.subscribe(lambda event: everything.append(event.type), types=["customer.*"])
    customer = service.create(tax_id_data=[{"type": "eu_vat", "value": "DE123456789"}])
    [vat] = service.tax_ids.list(customer.id).data
    service.tax_ids.delete(customer.id, vat.id)
    assert [(event.type, event.data.object["id"]) for event in seen] == [
        ("customer.tax_id.created", vat.id),
        ("customer.tax_id.deleted", vat.id),
    ]
    assert everything == [
        "customer.created",
        "customer.tax_id.created",
        "customer.tax_id.deleted",
    ]


def test_endpoints_may_ask_for_tax_id_events_by_name(service: CustomerService) -> None:
    endpoint = service.webhook_endpoints.create(
        url="http://127.0.0.1:9/hooks", enabled_events=TAX_ID_TYPES
    )
    assert endpoint.enabled_events == TAX_ID_TYPES
    with pytest.raises(InvalidRequestError) as caught:
        service.webhook_endpoints.create(
            url="http://127.0.0.1:9/hooks", enabled_events=["customer.tax_id.*"]
        )
    assert caught.value.param == "enabled_events[0]"  # Stripe's enum: names or "*" only
    customer = service.create(email="jenny@example.com")
    assert service.events.list(limit=1).data[0].pending_webhooks == 0  # not asked for
    service.tax_ids.create(customer.id, type="eu_vat", value="DE123456789")
    assert service.events.list(limit=1).data[0].pending_webhooks == 1


def test_tax_id_events_are_delivered_signed_to_an_endpoint_that_wants_them(
    service: CustomerService,
) -> None:
    with WebhookReceiver() as receiver:
        endpoint = service.webhook_endpoints.create(
            url=receiver.url, enabled_events=["customer.tax_id.created", "customer.tax_id.deleted"]
        )
        assert endpoint.secret is not None
        with service.webhooks.start_delivery(retry=FAST):
            customer = service.create(email="jenny@example.com")
            vat = service.tax_ids.create(customer.id, type="eu_vat", value="DE123456789")
            service.tax_ids.delete(customer.id, vat.id)
            receiver.wait_for(2)
            wait_until(lambda: service.store.outbox_next_due() is None, "both delivered")
    received = sorted(
        (
            stripe.Webhook.construct_event(r.body.decode(), r.signature, endpoint.secret)
            for r in receiver.requests
        ),
        key=lambda event: event.type,
    )
    assert [(event.type, event.data.object.id) for event in received] == [
        ("customer.tax_id.created", vat.id),
        ("customer.tax_id.deleted", vat.id),
    ]
    assert received[0].data.object.object == "tax_id"


# --- over HTTP with the official SDK, on every store ---------------------------------------


@pytest.fixture
def http_client(service: CustomerService) -> Iterator[stripe.StripeClient]:
    with RunningServer(service) as server:
        yield stripe.StripeClient(
            API_KEY,
            base_addresses={"api": f"http://127.0.0.1:{server.port}"},
            max_network_retries=0,
        )


def test_tax_id_events_over_http(http_client: stripe.StripeClient) -> None:
    customer = http_client.v1.customers.create(params={"email": "jenny@example.com"})
    vat = http_client.v1.customers.tax_ids.create(
        customer.id,
        params={"type": "eu_vat", "value": "DE123456789"},
        options={"idempotency_key": "tax-id-events-1"},
    )
    deleted = http_client.v1.customers.tax_ids.delete(customer.id, vat.id)
    assert deleted.deleted is True

    page = http_client.v1.events.list(params={"type": "customer.tax_id.*"})
    assert [event.type for event in page.data] == [
        "customer.tax_id.deleted",
        "customer.tax_id.created",
    ]
    removed, created = page.data
    assert created.data.object["id"] == vat.id
    assert created.data.object["object"] == "tax_id"
    assert created.data.object["customer"] == customer.id
    # request.id is the Request-Id of the call that caused it; the idempotency key as sent.
    assert created.request.id == vat.last_response.request_id
    assert created.request.idempotency_key == "tax-id-events-1"
    assert removed.request.id == deleted.last_response.request_id
    assert removed.data.object["value"] == "DE123456789"
    assert http_client.v1.events.retrieve(created.id).to_dict() == created.to_dict()
    everything = http_client.v1.events.list(params={"type": "customer.*"})
    assert [event.type for event in everything.data] == [
        "customer.tax_id.deleted",
        "customer.tax_id.created",
        "customer.created",
    ]
    endpoint = http_client.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/hooks", "enabled_events": ["customer.tax_id.updated"]}
    )
    assert endpoint.enabled_events == ["customer.tax_id.updated"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        http_client.v1.webhook_endpoints.create(
            params={"url": "http://127.0.0.1:9/hooks", "enabled_events": ["customer.tax_id"]}
        )
    assert (caught.value.http_status, caught.value.param) == (400, "enabled_events[0]")


# --- SQLite: the tables of the new types ----------------------------------------------------


def test_a_schema_13_file_gets_the_tax_id_event_tables(tmp_path: Path) -> None:
    path = tmp_path / "v13.db"
    connection = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:13]:
        for step in migration:
            step(connection) if callable(step) else connection.execute(step)
    connection.execute("UPDATE schema_version SET version = 13")
    connection.close()
    with SQLiteStore(path) as store:
        assert SCHEMA_VERSION >= 14
        raw = store._connection
        assert raw is not None
        assert dict(raw.execute("SELECT type, code FROM event_types")) == {
            "customer.created": 1,
            "customer.deleted": 2,
            "customer.updated": 3,
            "customer.tax_id.created": 4,
            "customer.tax_id.deleted": 5,
            "customer.tax_id.updated": 6,
        }
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        assert {"events_4", "events_5", "events_6"} <= tables
        store.check_consistency()


def test_a_checkpoint_before_the_first_tax_id_event_restores(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "customers.db") as store:
        service = CustomerService(store, seed=3)
        customer = service.create(email="jenny@example.com")
        snapshot = service.snapshot()
        service.tax_ids.create(customer.id, type="eu_vat", value="DE123456789")
        assert types_of(service)[-1] == "customer.tax_id.created"
        service.restore(snapshot)
        assert types_of(service) == ["customer.created"]
        assert service.tax_ids.list(customer.id).data == []
        store.check_consistency()
