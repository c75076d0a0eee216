"""Idempotency keys: replay, mismatches, in-flight conflicts, expiry and persistence."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from customer_core import (
    CustomerService,
    IdempotencyError,
    InvalidRequestError,
    MemoryStore,
    SQLiteStore,
)
from customer_core.testing import FakeClock

from .test_create import error_of

RETRY = "Try using a key other than 'key-1' if you meant to execute a different request."


def test_same_key_and_params_replay_the_first_result(service: CustomerService) -> None:
    first = service.create(idempotency_key="key-1", email="a@example.com")
    again = service.create(idempotency_key="key-1", email="a@example.com")
    assert again == first
    assert len(service.list().data) == 1


def test_same_key_with_other_params_is_an_idempotency_error(service: CustomerService) -> None:
    service.create(idempotency_key="key-1", email="a@example.com")
    with pytest.raises(IdempotencyError) as caught:
        service.create(idempotency_key="key-1", email="b@example.com")
    error = caught.value
    assert (error.type, error.http_status, error.code) == ("idempotency_error", 400, None)
    assert error.message == (
        f"Keys for idempotent requests can only be used with the same parameters they were first used with. {RETRY}"
    )


def test_same_key_on_another_endpoint_is_an_idempotency_error(service: CustomerService) -> None:
    customer = service.create(idempotency_key="key-1", email="a@example.com")
    with pytest.raises(IdempotencyError) as caught:
        service.update(customer.id, idempotency_key="key-1", email="a@example.com")
    assert caught.value.message == (
        "Keys for idempotent requests can only be used for the same endpoint they were first used for "
        f"('/v1/customers' vs '/v1/customers/{customer.id}'). {RETRY}"
    )


def test_validation_failures_are_not_saved(service: CustomerService) -> None:
    with pytest.raises(InvalidRequestError):
        service.create(idempotency_key="key-1", email="not-an-email")
    assert service.store.idempotency_get("key-1") is None
    assert service.create(idempotency_key="key-1", email="ok@example.com").email == "ok@example.com"


def test_errors_after_validation_are_saved_and_replayed(service: CustomerService) -> None:
    service.create(invoice_prefix="TAKEN")
    first = error_of(service.create, idempotency_key="key-1", invoice_prefix="TAKEN")
    again = error_of(service.create, idempotency_key="key-1", invoice_prefix="TAKEN")
    assert again.to_dict() == first.to_dict() and again.http_status == 400
    assert service.store.idempotency_get("key-1")["status"] == 400  # type: ignore[index]


def test_update_replays_its_response_even_after_later_changes(service: CustomerService) -> None:
    customer = service.create()
    first = service.update(customer.id, idempotency_key="key-1", name="First")
    service.update(customer.id, name="Later")
    assert service.update(customer.id, idempotency_key="key-1", name="First") == first


def test_keys_expire_after_the_ttl(store: Any, clock: FakeClock) -> None:
    service = CustomerService(store, clock=clock, idempotency_ttl=3600)
    first = service.create(idempotency_key="key-1")
    clock.advance(3599)
    assert service.create(idempotency_key="key-1").id == first.id
    clock.advance(2)
    assert service.create(idempotency_key="key-1").id != first.id


def test_key_rules(service: CustomerService) -> None:
    assert service.create(idempotency_key="k" * 255).id
    error = error_of(service.create, idempotency_key="k" * 256)
    assert (
        error.message
        == "Idempotency key is too long: it has 256 characters, at most 255 are allowed."
    )
    assert error_of(service.create, idempotency_key=5).param == "idempotency_key"
    error = error_of(service.execute, "create", {"idempotency_key": "in-the-body"})
    assert error.message == "Received unknown parameter: idempotency_key"
    deleted = service.create()
    assert service.execute("delete", {}, id=deleted.id, idempotency_key="ignored-on-delete").deleted  # type: ignore[union-attr]


class SlowStore(MemoryStore):
    """Holds every insert until released, to keep a request in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def insert(self, record: dict[str, Any]) -> None:
        self.entered.set()
        assert self.release.wait(10)
        super().insert(record)


def test_a_request_still_in_flight_is_a_409() -> None:
    store = SlowStore()
    service = CustomerService(store)
    results: list[Any] = []
    worker = threading.Thread(
        target=lambda: results.append(service.create(idempotency_key="key-1"))
    )
    worker.start()
    assert store.entered.wait(10)
    with pytest.raises(IdempotencyError) as caught:
        service.create(idempotency_key="key-1")
    assert (caught.value.http_status, caught.value.code) == (409, "idempotency_key_in_use")
    store.release.set()
    worker.join(10)
    assert service.create(idempotency_key="key-1").id == results[0].id


def test_keys_survive_a_restart_of_the_file_store(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    with SQLiteStore(path) as store:
        first = CustomerService(store).create(idempotency_key="key-1", email="a@example.com")
    with SQLiteStore(path) as store:
        service = CustomerService(store)
        assert service.create(idempotency_key="key-1", email="a@example.com") == first
        assert len(service.list().data) == 1
