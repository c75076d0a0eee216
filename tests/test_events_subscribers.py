"""In-process subscribers (issue 13 point 5): after commit, in commit order, once per event,
a failing callback logged and harmless; on every store."""

from __future__ import annotations

import logging
import threading

import pytest

from customer_core import CustomerService, InvalidRequestError
from customer_core.events import Event


def test_a_subscriber_gets_each_event_after_its_commit(service: CustomerService) -> None:
    seen: list[tuple[str, str | None]] = []

    def callback(event: Event) -> None:
        # The write is committed: the customer reads back as the event shows it.
        customer = service.retrieve(event.data.object["id"])
        seen.append((event.type, getattr(customer, "name", "deleted")))

    service.subscribe(callback)
    customer = service.create(name="A")
    service.update(customer.id, name="B")
    service.update(customer.id, name="B")  # no change, no event
    service.delete(customer.id)
    assert seen == [
        ("customer.created", "A"),
        ("customer.updated", "B"),
        ("customer.deleted", "deleted"),
    ]
    stored = [event["id"] for event in service.store.snapshot()["events"]]
    assert len(stored) == 3


def test_types_select_events_and_unsubscribe_stops_them(service: CustomerService) -> None:
    updates: list[str] = []
    everything: list[str] = []
    unsubscribe = service.subscribe(lambda event: updates.append(event.type), types="*.updated")
    service.subscribe(lambda event: everything.append(event.id), types=["customer.*"])
    customer = service.create()
    service.update(customer.id, name="x")
    unsubscribe()
    service.update(customer.id, name="y")
    assert updates == ["customer.updated"]
    assert everything == [event.id for event in reversed(service.events.list().data)]
    with pytest.raises(InvalidRequestError) as caught:
        service.subscribe(print, types=["invoice.paid"])
    assert caught.value.param == "types"


def test_nothing_is_published_for_a_failed_write_or_before_a_batch_commits(
    service: CustomerService,
) -> None:
    seen: list[str] = []
    service.subscribe(lambda event: seen.append(event.data.object["email"]))
    with pytest.raises(InvalidRequestError):
        service.update("cus_missing", name="x")
    with pytest.raises(RuntimeError), service.batch():
        service.create(email="rolled@example.com")
        raise RuntimeError("abort")
    assert seen == []
    with service.batch():
        service.create(email="a@example.com")
        service.create(email="b@example.com")
        assert seen == []  # not committed yet
    assert seen == ["a@example.com", "b@example.com"]


def test_a_failing_subscriber_is_logged_and_starves_no_one(
    service: CustomerService, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def broken(event: Event) -> None:
        raise ValueError("boom")

    service.subscribe(broken)
    service.subscribe(lambda event: seen.append(event.type))
    with caplog.at_level(logging.ERROR, logger="customer_core.events"):
        customer = service.create(email="a@example.com")
    assert service.retrieve(customer.id).email == "a@example.com"  # type: ignore[union-attr]
    assert seen == ["customer.created"]
    (record,) = caplog.records
    assert "failed on evt_" in record.getMessage() and record.exc_info is not None


def test_a_subscriber_may_write_and_its_events_follow(service: CustomerService) -> None:
    seen: list[str] = []

    def callback(event: Event) -> None:
        seen.append(event.type)
        if event.type == "customer.created":
            service.update(event.data.object["id"], name="welcomed")

    service.subscribe(callback)
    customer = service.create()
    assert seen == ["customer.created", "customer.updated"]
    assert service.retrieve(customer.id).name == "welcomed"  # type: ignore[union-attr]


def test_threads_writing_at_once_publish_in_commit_order_once_each(
    service: CustomerService,
) -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def callback(event: Event) -> None:
        with lock:
            seen.append(event.id)

    service.subscribe(callback)

    def write(n: int) -> None:
        for i in range(25):
            customer = service.create(email=f"t{n}-{i}@example.com")
            service.update(customer.id, name=str(i))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 200 and len(set(seen)) == 200
    # Event ids are drawn in commit order (under the store's write lock).
    assert seen == sorted(seen)
    assert set(seen) == {event["id"] for event in service.store.snapshot()["events"]}


def test_an_unknown_type_name_is_shown_so_that_the_message_prints(
    service: CustomerService,
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        service.subscribe(print, types=["invoice.paid", "customer.\ud800"])
    assert caught.value.message == (
        "Invalid types: invoice.paid, customer.\\ud800 names no event type this library records."
    )
    caught.value.message.encode("utf-8")  # no lone surrogate left in it
