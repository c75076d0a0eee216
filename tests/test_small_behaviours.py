"""Small silent behaviours (issue 12, point 6): page dumps honour ``mode`` and hand out
copies, integers take no surrounding spaces, and every process that writes purges
expired idempotency keys, the CLI included."""

from __future__ import annotations

from pathlib import Path

import pytest

from customer_core import CustomerService, InvalidRequestError, SQLiteStore
from customer_core.cli import main
from customer_core.testing import FakeClock

from .conftest import NOW


def test_a_pages_dicts_are_copies_the_caller_owns(service: CustomerService) -> None:
    made = service.create(email="amy@example.com", metadata={"plan": "gold"})
    for page in (service.list(), service.search(query='email:"amy@example.com"')):
        first = page.to_dict()
        first["data"][0]["email"] = "changed@example.com"
        first["data"][0]["metadata"]["plan"] = "changed"
        first["data"].clear()
        for mode in ("json", "python"):
            dumped = page.model_dump(mode=mode)
            assert dumped["data"][0]["email"] == "amy@example.com"
            assert dumped["data"][0]["metadata"] == {"plan": "gold"}
            dumped["data"][0]["metadata"]["plan"] = "changed too"
        assert page.to_dict()["data"][0]["metadata"] == {"plan": "gold"}
        assert page.data[0].metadata == {"plan": "gold"}
    assert service.retrieve(made.id).metadata == {"plan": "gold"}  # type: ignore[union-attr]


def test_a_page_dump_honours_mode(service: CustomerService) -> None:
    service.create(email="amy@example.com", metadata={"plan": "gold"})
    page = service.list()
    python = page.model_dump(mode="python")
    assert python["data"] == [customer.model_dump(mode="python") for customer in page.data]
    assert page.model_dump() == python  # pydantic's default mode
    assert page.model_dump(mode="json") == page.to_dict()
    with pytest.raises(ValueError, match="mode must be 'json' or 'python'"):
        page.model_dump(mode="xml")


@pytest.mark.parametrize("text", [" 12 ", "12 ", " 12", "\t5", "5\n", "+5", "1_000", "٣"])
def test_an_integer_is_digits_only_without_surrounding_spaces(
    service: CustomerService, text: str
) -> None:
    for call, param in [
        (lambda: service.create(balance=text), "balance"),
        (lambda: service.list(limit=text), "limit"),
        (lambda: service.list(created={"gte": text}), "created[gte]"),
    ]:
        with pytest.raises(InvalidRequestError) as caught:
            call()
        assert (caught.value.code, caught.value.param) == ("parameter_invalid_integer", param)
    assert service.create(balance="12").balance == 12
    assert service.create(balance="-12").balance == -12


def expired_entry(store: SQLiteStore) -> None:
    store.idempotency_put(
        "old", {"created": NOW - 2 * 24 * 60 * 60, "endpoint": "/v1/customers", "status": 200}
    )


def test_the_first_write_of_a_service_purges_expired_keys(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "customers.db") as store:
        expired_entry(store)
        clock = FakeClock(NOW)
        service = CustomerService(store, clock=clock)
        service.retrieve(service.create().id)  # a create without a key writes, so it purges
        assert store.idempotency_get("old") is None
        expired_entry(store)
        service.create()  # not again until PURGE_EVERY more writes
        assert store.idempotency_get("old") is not None
        deleting = CustomerService(store, clock=clock)
        customer = deleting.list().data[0]
        assert store.idempotency_get("old") is not None  # reads purge nothing
        deleting.delete(customer.id)
        assert store.idempotency_get("old") is None


def test_a_cli_write_purges_expired_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "customers.db"
    with SQLiteStore(path) as store:
        store.idempotency_put("old", {"created": 1_000, "endpoint": "/v1/customers", "status": 200})
    assert main(["create", "--db", str(path), "-d", "email=a@b.co"]) == 0
    capsys.readouterr()
    with SQLiteStore(path) as store:
        assert store.idempotency_get("old") is None
