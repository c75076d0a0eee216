"""The events list's ``delivery_success`` (stripe-python ``EventListParams``): true keeps
the events whose webhooks were all delivered (``pending_webhooks`` 0, also those no
endpoint wanted), false those with a delivery still pending or given up; on every store,
through the service, HTTP with the official SDK, and the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe

from customer_core import CustomerService, InvalidRequestError, MemoryStore, SQLiteStore, Store

from .test_cli import run
from .test_http import API_KEY, RunningServer


def settle(store: Store, outcomes: dict[str, str]) -> None:
    """Play a worker: take every due delivery and settle it with the status given for its
    event (``succeeded`` removes it, ``failed`` gives it up); others go back pending."""
    claimed = store.outbox_claim(float("inf"), 0.0, 1000)
    store.outbox_settle(
        [
            {**delivery, "status": outcomes.get(delivery["event"], "pending")}
            for delivery in claimed
        ],
        [],
    )


def history(service: CustomerService) -> dict[str, str]:
    """Events in every state: ``none`` (no endpoint then), ``delivered``, ``given_up`` (one
    endpoint took it, the other gave up), ``pending``; return their ids by state."""
    ids: dict[str, str] = {}

    def record(name: str) -> str:
        customer = service.create(email=f"{name}@example.com")
        [event] = service.events.list(limit=1).data
        assert event.data.object["id"] == customer.id
        ids[name] = event.id
        return event.id

    record("none")
    first = service.webhook_endpoints.create(url="http://127.0.0.1:9/a", enabled_events=["*"])
    record("delivered")
    settle(service.store, {ids["delivered"]: "succeeded"})
    service.webhook_endpoints.create(url="http://127.0.0.1:9/b", enabled_events=["*"])
    record("given_up")
    claimed = service.store.outbox_claim(float("inf"), 0.0, 1000)
    service.store.outbox_settle(
        [
            {**delivery, "status": "succeeded" if delivery["endpoint"] == first.id else "failed"}
            for delivery in claimed
        ],
        [],
    )
    record("pending")
    return ids


def listed(service: CustomerService, **params: object) -> list[str]:
    return [event.id for event in service.events.list(**params).data]


def test_delivery_success_splits_the_events_by_their_deliveries(
    service: CustomerService,
) -> None:
    ids = history(service)
    pending = {event.id: event.pending_webhooks for event in service.events.list().data}
    assert pending == {ids["none"]: 0, ids["delivered"]: 0, ids["given_up"]: 1, ids["pending"]: 2}

    assert listed(service, delivery_success=True) == [ids["delivered"], ids["none"]]
    assert listed(service, delivery_success=False) == [ids["pending"], ids["given_up"]]
    # The wire's text form, as the SDK and forms send it.
    assert listed(service, delivery_success="true") == [ids["delivered"], ids["none"]]
    assert listed(service, delivery_success="false") == [ids["pending"], ids["given_up"]]
    assert len(listed(service)) == 4

    # With the other filters, limits and cursors.
    page = service.events.list(delivery_success=False, limit=1)
    assert [event.id for event in page.data] == [ids["pending"]] and page.has_more
    after = service.events.list(delivery_success=False, limit=1, starting_after=ids["pending"])
    assert [event.id for event in after.data] == [ids["given_up"]] and not after.has_more
    before = service.events.list(delivery_success=True, ending_before=ids["none"])
    assert [event.id for event in before.data] == [ids["delivered"]]
    assert listed(service, delivery_success=True, limit=1) == [ids["delivered"]]
    assert listed(service, delivery_success=True, type="customer.updated") == []
    assert listed(service, delivery_success=False, types=["customer.created"]) == [
        ids["pending"],
        ids["given_up"],
    ]

    # Once every delivery was made, the event moves over.
    settle(service.store, {ids["pending"]: "succeeded"})
    assert listed(service, delivery_success=False) == [ids["given_up"]]
    assert listed(service, delivery_success=True) == [ids["pending"], ids["delivered"], ids["none"]]


def test_delivery_success_takes_a_boolean(service: CustomerService) -> None:
    for value in ("yes", "", 1):
        with pytest.raises(InvalidRequestError) as caught:
            service.events.list(delivery_success=value)
        assert caught.value.param == "delivery_success"
        assert caught.value.http_status == 400


def test_delivery_success_over_http_with_the_sdk(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "customers.db") as store:
        service = CustomerService(store)
        ids = history(service)
        with RunningServer(service) as server:
            client = stripe.StripeClient(
                API_KEY,
                base_addresses={"api": f"http://127.0.0.1:{server.port}"},
                max_network_retries=0,
            )
            failed = client.v1.events.list(params={"delivery_success": False})
            succeeded = client.v1.events.list(params={"delivery_success": True, "limit": 1})
            with pytest.raises(stripe.InvalidRequestError) as caught:
                client.v1.events.list(params={"delivery_success": "maybe"})  # type: ignore[typeddict-item]
    assert [event.id for event in failed.data] == [ids["pending"], ids["given_up"]]
    assert [event.pending_webhooks for event in failed.data] == [2, 1]
    assert [event.id for event in succeeded.data] == [ids["delivered"]] and succeeded.has_more
    assert (caught.value.http_status, caught.value.param) == (400, "delivery_success")


def test_delivery_success_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "customers.db"
    with SQLiteStore(data) as store:
        ids = history(CustomerService(store))
    arguments = ("events", "list", "--db", str(data), "-d")
    status, page, _ = run(capsys, *arguments, "delivery_success=false")
    assert status == 0
    assert [event["id"] for event in page["data"]] == [ids["pending"], ids["given_up"]]  # type: ignore[index]
    status, page, _ = run(capsys, *arguments, "delivery_success=true")
    assert [event["id"] for event in page["data"]] == [ids["delivered"], ids["none"]]  # type: ignore[index]
    status, _, error = run(capsys, *arguments, "delivery_success=maybe")
    assert status == 1 and error.startswith("error: ")


@pytest.mark.parametrize("value", [None, ""])
def test_an_empty_delivery_success_is_refused_as_every_other_param_is(value: object) -> None:
    # Trial 4, 9: None said "Invalid boolean: None", unlike type, limit, created, email...
    service = CustomerService(MemoryStore())
    with pytest.raises(InvalidRequestError) as raised:
        service.events.list(delivery_success=value)
    assert (raised.value.param, raised.value.code) == (
        "delivery_success",
        "parameter_invalid_empty",
    )
    given = "None" if value is None else "an empty string"  # what was passed (trial 7)
    assert raised.value.message.startswith(
        f"You passed {given} for 'delivery_success'. We assume empty values"
    )
