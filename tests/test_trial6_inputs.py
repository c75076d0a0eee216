"""Inputs a new user tried (trial 6): int and str subclasses, values nested past the
interpreter's stack, lone surrogates in metadata, a nested batch that failed, search's
clause limit, and the SQLite store's busy_timeout. Each is a customer_core error or the
plain value it stands for, never a raw error, and leaves the data as it was."""

from __future__ import annotations

import enum
from pathlib import Path

import pytest

from customer_core import CustomerService, InvalidRequestError, SQLiteStore
from customer_core.events import Event


class Cents(enum.IntEnum):
    TEN = 10


class Plan(str):
    """A str subclass, as a framework's safe string is."""


def deeply_nested(levels: int) -> object:
    value: object = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


def test_an_int_subclass_is_stored_as_the_plain_int_even_with_a_subscriber(
    service: CustomerService,
) -> None:
    heard: list[Event] = []
    service.subscribe(heard.append)
    created = service.create(balance=Cents.TEN)
    assert type(created.balance) is int and created.balance == 10
    updated = service.update(created.id, balance=Cents.TEN + 5)
    assert type(updated.balance) is int and updated.balance == 15
    assert [event.type for event in heard] == ["customer.created", "customer.updated"]
    assert heard[1].data.previous_attributes == {"balance": 10}


def test_a_str_subclass_id_names_the_customer(service: CustomerService) -> None:
    created = service.create(email="jenny@example.com")
    assert service.retrieve(Plan(created.id)).id == created.id
    assert service.update(Plan(created.id), name="Jenny").name == "Jenny"


@pytest.mark.parametrize("param", ["metadata", "name", "balance"])
def test_a_value_nested_past_the_stack_is_a_400(service: CustomerService, param: str) -> None:
    created = service.create()
    value = deeply_nested(1000)
    with pytest.raises(InvalidRequestError) as raised:
        service.create(**{param: value})
    assert raised.value.http_status == 400
    assert "(a value nested too deeply to show)" in raised.value.message
    with pytest.raises(InvalidRequestError):
        service.update(created.id, **{param: value})
    assert [customer.id for customer in service.list().data] == [created.id]
    assert service.retrieve(created.id).metadata == {}


def test_a_lone_surrogate_in_metadata_is_named_as_such(service: CustomerService) -> None:
    with pytest.raises(InvalidRequestError) as key:
        service.create(metadata={"plan\udc80": "gold"})
    assert key.value.message == (
        'Invalid key: "plan\\udc80" must be valid Unicode text (it holds a lone surrogate)'
    )
    assert key.value.param == "metadata"
    with pytest.raises(InvalidRequestError) as value:
        service.create(metadata={"plan": "gold\udc80"})
    assert value.value.message == (
        'Invalid value: "gold\\udc80" must be valid Unicode text (it holds a lone surrogate)'
    )
    assert service.list().data == []


def test_a_nested_batch_that_raised_rolls_the_whole_batch_back(
    service: CustomerService,
) -> None:
    heard: list[Event] = []
    service.subscribe(heard.append)
    kept = service.create(email="kept@example.com")
    with pytest.raises(InvalidRequestError) as raised:  # noqa: PT012 (the block is the test)
        with service.batch():
            service.create(email="outer@example.com")
            try:
                with service.batch():
                    service.create(email="inner@example.com")
                    raise ValueError("the inner unit of work failed")
            except ValueError:
                pass
            service.create(email="after@example.com")
    assert raised.value.message == (
        "The batch was rolled back: a batch inside it raised ValueError "
        "(the inner unit of work failed), so none of its writes were kept."
    )
    assert isinstance(raised.value.__cause__, ValueError)
    assert [customer.id for customer in service.list().data] == [kept.id]
    assert [event.data.object["id"] for event in heard] == [kept.id]
    # The next batch starts clean: nested batches that succeed commit together.
    with service.batch():
        service.create(email="a@example.com")
        with service.batch():
            service.create(email="b@example.com")
    assert [customer.email for customer in service.list().data] == [
        "b@example.com",
        "a@example.com",
        "kept@example.com",
    ]


def test_an_error_caught_inside_one_batch_level_keeps_the_batch(
    service: CustomerService,
) -> None:
    with service.batch():
        service.create(email="a@example.com")
        with pytest.raises(InvalidRequestError):
            service.create(email="not an email")
        service.create(email="b@example.com")
    assert [customer.email for customer in service.list().data] == [
        "b@example.com",
        "a@example.com",
    ]


def test_a_search_combines_at_most_ten_clauses(service: CustomerService) -> None:
    service.create(name="Jenny Rosen")
    ten = " OR ".join(f'name:"x{n}"' for n in range(9)) + ' OR name:"jenny"'
    assert [customer.name for customer in service.search(query=ten).data] == ["Jenny Rosen"]
    eleven = " ".join(f'-name:"x{n}"' for n in range(11))
    with pytest.raises(InvalidRequestError) as raised:
        service.search(query=eleven)
    assert raised.value.param == "query"
    assert raised.value.message == (
        "Invalid search query: a query combines at most 10 clauses (at position 110)."
    )


@pytest.mark.parametrize(
    ("busy_timeout", "error"),
    [("x", TypeError), (None, TypeError), (float("nan"), ValueError), (-1, ValueError)],
)
def test_sqlite_busy_timeout_is_checked_when_given(
    tmp_path: Path, busy_timeout: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match="busy_timeout must be a"):
        SQLiteStore(tmp_path / "customers.db", busy_timeout=busy_timeout)  # type: ignore[arg-type]
    assert not (tmp_path / "customers.db").exists()
    SQLiteStore(tmp_path / "customers.db", busy_timeout=0).close()
