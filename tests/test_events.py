"""Events recorded with each customer change, and listed like Stripe's (issue 13), on every store."""

from __future__ import annotations

from typing import Any

import pytest

from customer_core import CustomerService, InvalidRequestError, MemoryStore, Store
from customer_core.events import recording
from customer_core.testing import FakeClock

DAY = 24 * 60 * 60


def events_of(service: CustomerService) -> list[dict[str, Any]]:
    """Every stored event, oldest first."""
    events: list[dict[str, Any]] = service.store.snapshot()["events"]
    return events


def last_event(service: CustomerService) -> dict[str, Any]:
    return events_of(service)[-1]


def changes(service: CustomerService, customer_id: str, **params: Any) -> dict[str, Any] | None:
    """The previous_attributes of the event an update records (None: no event)."""
    count = len(events_of(service))
    service.update(customer_id, **params)
    events = events_of(service)
    if len(events) == count:
        return None
    assert len(events) == count + 1
    assert events[-1]["type"] == "customer.updated"
    previous: dict[str, Any] = events[-1]["data"]["previous_attributes"]
    return previous


# --- what is recorded -------------------------------------------------------------------


def test_create_records_a_customer_created_event_shaped_like_stripes(
    service: CustomerService, clock: FakeClock
) -> None:
    customer = service.create(email="jenny@example.com", metadata={"plan": "gold"})
    (event,) = events_of(service)
    assert list(event) == [
        "id",
        "object",
        "api_version",
        "created",
        "data",
        "livemode",
        "pending_webhooks",
        "request",
        "type",
    ]
    assert event["id"].startswith("evt_") and len(event["id"]) == 30
    assert event["object"] == "event"
    assert event["api_version"] == "2026-09-30.endive"
    assert event["created"] == int(clock())
    assert event["data"] == {"object": customer.to_dict()}
    assert (event["livemode"], event["pending_webhooks"]) == (False, 0)
    assert event["request"] == {"id": None, "idempotency_key": None}
    assert event["type"] == "customer.created"
    assert service.events.retrieve(event["id"]).to_dict() == event


def test_the_request_id_and_idempotency_key_are_recorded(service: CustomerService) -> None:
    service.execute("create", {"email": "a@example.com"}, request_id="req_123")
    assert last_event(service)["request"] == {"id": "req_123", "idempotency_key": None}
    customer = service.create(email="b@example.com", idempotency_key="key-1")
    assert last_event(service)["request"] == {"id": None, "idempotency_key": "key-1"}
    service.execute(
        "update",
        {"name": "B"},
        id=customer.id,
        idempotency_key="key-2",
        request_id="req_456",
    )
    assert last_event(service)["request"] == {"id": "req_456", "idempotency_key": "key-2"}


def test_a_replayed_idempotent_request_records_nothing_new(service: CustomerService) -> None:
    first = service.create(email="a@example.com", idempotency_key="key-1")
    service.update(first.id, name="A", idempotency_key="key-2")
    before = events_of(service)
    assert service.create(email="a@example.com", idempotency_key="key-1").id == first.id
    service.update(first.id, name="A", idempotency_key="key-2")
    assert events_of(service) == before
    assert [event["type"] for event in before] == ["customer.created", "customer.updated"]


def test_delete_records_the_customer_as_it_was(service: CustomerService) -> None:
    customer = service.create(email="a@example.com", metadata={"plan": "gold"})
    service.delete(customer.id)
    event = last_event(service)
    assert event["type"] == "customer.deleted"
    assert event["data"] == {"object": customer.to_dict()}  # not the {id, object, deleted} stub


def test_a_failed_call_records_nothing(service: CustomerService) -> None:
    taken = service.create(invoice_prefix="TAKEN")
    customer = service.create(email="a@example.com")
    before = service.store.snapshot()
    with pytest.raises(InvalidRequestError):
        service.update(customer.id, invoice_prefix="TAKEN", name="New name")
    with pytest.raises(InvalidRequestError):
        service.update("cus_missing", name="x")
    with pytest.raises(InvalidRequestError):
        service.create(email="not-an-email")
    with pytest.raises(InvalidRequestError):
        service.delete("cus_missing")
    with pytest.raises(InvalidRequestError):  # failed with a key: saved for replay, no event
        service.update(customer.id, invoice_prefix="TAKEN", idempotency_key="k")
    assert events_of(service) == before["events"]
    assert service.retrieve(taken.id).invoice_prefix == "TAKEN"


def test_a_batch_that_fails_leaves_no_event(service: CustomerService) -> None:
    service.create(email="kept@example.com")
    before = events_of(service)
    with pytest.raises(RuntimeError), service.batch():
        service.create(email="a@example.com")
        service.create(email="b@example.com")
        raise RuntimeError("abort the import")
    assert events_of(service) == before


def test_events_follow_the_changes_in_order(service: CustomerService, clock: FakeClock) -> None:
    customer = service.create(email="a@example.com")
    clock.advance(1)
    service.update(customer.id, name="A")
    service.update(customer.id, name="B")
    service.delete(customer.id)
    page = service.events.list()
    assert [event.type for event in page.data] == [
        "customer.deleted",
        "customer.updated",
        "customer.updated",
        "customer.created",
    ]
    assert [event.data.object.get("name") for event in page.data] == ["B", "B", "A", None]


# --- previous_attributes -----------------------------------------------------------------


def test_previous_attributes_of_top_level_fields(service: CustomerService) -> None:
    customer = service.create(email="a@example.com", balance=5)
    assert changes(service, customer.id, email="b@example.com", balance=7, phone="+33") == {
        "balance": 5,
        "email": "a@example.com",
        "phone": None,
    }
    assert changes(service, customer.id, description="") is None  # was null, stays null
    assert changes(service, customer.id, tax_exempt="exempt") == {"tax_exempt": "none"}


def test_previous_attributes_of_metadata_keys(service: CustomerService) -> None:
    customer = service.create(metadata={"plan": "gold", "seats": "2"})
    assert changes(service, customer.id, metadata={"plan": "", "team": "x", "seats": "2"}) == {
        "metadata": {"plan": "gold", "team": None}
    }
    assert changes(service, customer.id, metadata="") == {"metadata": {"seats": "2", "team": "x"}}
    assert changes(service, customer.id, metadata={"n": "1"}) == {"metadata": {"n": None}}


def test_previous_attributes_of_an_object_that_appears_changes_or_is_cleared(
    service: CustomerService,
) -> None:
    customer = service.create()
    assert changes(service, customer.id, address={"city": "Paris", "country": "FR"}) == {
        "address": None
    }
    assert changes(service, customer.id, address={"city": "Lyon", "country": "FR"}) == {
        "address": {"city": "Paris"}
    }
    old_address = {
        "city": "Lyon",
        "country": "FR",
        "line1": None,
        "line2": None,
        "postal_code": None,
        "state": None,
    }
    assert changes(service, customer.id, address="") == {"address": old_address}
    assert changes(service, customer.id, shipping={"name": "A", "address": {"city": "Rome"}}) == {
        "shipping": None
    }
    assert changes(
        service, customer.id, shipping={"name": "A", "address": {"city": "Oslo"}, "phone": "1"}
    ) == {"shipping": {"address": {"city": "Rome"}, "phone": None}}


def test_previous_attributes_of_invoice_settings_and_arrays(service: CustomerService) -> None:
    customer = service.create(
        preferred_locales=["en"],
        invoice_settings={"custom_fields": [{"name": "VAT", "value": "1"}]},
    )
    assert changes(service, customer.id, preferred_locales=["en", "fr"]) == {
        "preferred_locales": ["en"]
    }
    assert changes(service, customer.id, invoice_settings={"footer": "Thanks"}) == {
        "invoice_settings": {"footer": None}
    }
    assert changes(
        service,
        customer.id,
        invoice_settings={
            "custom_fields": [{"name": "VAT", "value": "1"}, {"name": "PO", "value": "2"}]
        },
    ) == {"invoice_settings": {"custom_fields": [{"name": "VAT", "value": "1"}]}}


def test_previous_attributes_of_the_optional_name_fields(service: CustomerService) -> None:
    customer = service.create(name="A")
    assert changes(service, customer.id, business_name="Acme") == {"business_name": None}
    assert changes(service, customer.id, business_name="") == {"business_name": "Acme"}


def test_an_update_that_changes_nothing_records_no_event(service: CustomerService) -> None:
    customer = service.create(email="a@example.com", metadata={"plan": "gold"})
    assert changes(service, customer.id, email="a@example.com", metadata={"plan": "gold"}) is None
    assert changes(service, customer.id) is None
    assert changes(service, customer.id, expand=["tax"]) is None
    assert changes(service, customer.id, metadata={"absent": ""}) is None


# --- listing and retrieval ---------------------------------------------------------------


@pytest.fixture
def history(service: CustomerService, clock: FakeClock) -> list[str]:
    """Seven events, one a second: created x3, updated x3, deleted; ids oldest first."""
    customers = []
    for n in range(3):
        customers.append(service.create(email=f"c{n}@example.com").id)
        clock.advance(1)
    for customer_id in customers:
        service.update(customer_id, name="x")
        clock.advance(1)
    service.delete(customers[0])
    return [event["id"] for event in events_of(service)]


def ids(page: Any) -> list[str]:
    return [event.id for event in page.data]


def test_list_is_newest_first_with_limits_and_cursors(
    service: CustomerService, history: list[str]
) -> None:
    newest = history[::-1]
    page = service.events.list(limit=3)
    assert (ids(page), page.has_more) == (newest[:3], True)
    assert page.to_dict()["url"] == "/v1/events"
    page = service.events.list(limit=3, starting_after=newest[2])
    assert (ids(page), page.has_more) == (newest[3:6], True)
    page = service.events.list(limit=3, starting_after=newest[5])
    assert (ids(page), page.has_more) == (newest[6:], False)
    page = service.events.list(limit=2, ending_before=newest[3])
    assert (ids(page), page.has_more) == (newest[1:3], True)
    assert ids(service.events.list(limit=100)) == newest


def test_list_filters_by_created(service: CustomerService, history: list[str]) -> None:
    assert (
        ids(service.events.list(created={"gte": 1_700_000_001, "lt": 1_700_000_003}))
        == (history[1:3][::-1])
    )
    assert ids(service.events.list(created=1_700_000_000)) == [history[0]]


def test_list_filters_by_type_with_a_wildcard_or_by_types(
    service: CustomerService, history: list[str]
) -> None:
    def types(**params: Any) -> list[str]:
        return [event.type for event in service.events.list(limit=100, **params).data]

    assert types(type="customer.updated") == ["customer.updated"] * 3
    assert types(type="customer.*") == types()
    assert types(type="*") == types()
    assert types(type="*.deleted") == ["customer.deleted"]
    assert types(type="invoice.paid") == []
    assert types(types=["customer.deleted", "customer.created"]) == (
        ["customer.deleted"] + ["customer.created"] * 3
    )
    page = service.events.list(type="customer.created", limit=2)
    assert ids(page) == [history[2], history[1]] and page.has_more


def test_list_refuses_bad_params_as_stripe_does(
    service: CustomerService, history: list[str]
) -> None:
    def error(**params: Any) -> tuple[str | None, str | None, int]:
        with pytest.raises(InvalidRequestError) as caught:
            service.events.list(**params)
        return caught.value.param, caught.value.code, caught.value.http_status

    assert error(type="customer.*", types=["customer.created"]) == ("types", None, 400)
    assert error(types=[f"customer.t{n}" for n in range(21)]) == ("types", None, 400)
    assert error(types=["customer.*"]) == ("types", None, 400)
    assert error(limit=0) == ("limit", "parameter_invalid_integer", 400)
    assert error(limit=101) == ("limit", "parameter_invalid_integer", 400)
    assert error(starting_after="evt_missing") == ("starting_after", "resource_missing", 400)
    assert error(starting_after=history[0], ending_before=history[1]) == (None, None, 400)
    assert error(email="a@example.com") == ("email", "parameter_unknown", 400)
    assert len(service.events.list(types=[f"customer.t{n}" for n in range(20)]).data) == 0


def test_retrieve_an_unknown_event_is_a_404(service: CustomerService) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        service.events.retrieve("evt_missing")
    error = caught.value
    assert (error.http_status, error.code, error.param) == (404, "resource_missing", "id")
    assert error.message == "No such event: 'evt_missing'"


def test_events_past_the_retention_are_gone_and_purged(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = CustomerService(store, clock=clock, seed=1)
    old = service.create(email="old@example.com")
    old_event = last_event(service)["id"]
    clock.advance(30 * DAY - 1)
    assert service.events.retrieve(old_event).data.object["id"] == old.id
    clock.advance(2)
    with pytest.raises(InvalidRequestError):
        service.events.retrieve(old_event)
    assert ids(service.events.list()) == []
    with pytest.raises(InvalidRequestError) as caught:
        service.events.list(starting_after=old_event)
    assert caught.value.param == "starting_after"
    monkeypatch.setattr(recording, "PURGE_EVERY", 1)
    service.create(email="new@example.com")
    assert [event["data"]["object"]["email"] for event in events_of(service)] == ["new@example.com"]


def test_the_retention_is_configurable(store: Store, clock: FakeClock) -> None:
    service = CustomerService(store, clock=clock, event_retention=60)
    service.create()
    clock.advance(61)
    service.create()
    assert len(service.events.list().data) == 1


# --- turned off, and reproducible ----------------------------------------------------------


def test_events_false_records_nothing(store: Store, clock: FakeClock) -> None:
    service = CustomerService(store, clock=clock, events=False)
    customer = service.create(email="a@example.com")
    service.update(customer.id, name="A")
    service.delete(customer.id)
    assert events_of(service) == []
    assert service.events.list().data == []
    with pytest.raises(InvalidRequestError):
        service.subscribe(print)


def test_seeded_services_record_identical_events() -> None:
    def run() -> list[dict[str, Any]]:
        service = CustomerService(MemoryStore(), clock=FakeClock(1_700_000_000), seed=7)
        customer = service.create(email="a@example.com")
        service.update(customer.id, metadata={"k": "v"})
        return events_of(service)

    first, second = run(), run()
    assert first == second
    assert first[0]["id"] != first[1]["id"]
    # Event ids come from a stream of their own: customer ids are as without events.
    plain = CustomerService(MemoryStore(), clock=FakeClock(1_700_000_000), seed=7, events=False)
    assert plain.create(email="a@example.com").id == first[0]["data"]["object"]["id"]
