"""An idempotency key must be text a header could carry: a NUL or a lone surrogate is a
400 on ``idempotency_key`` on every store, and nothing is created. They used to reach the
store: PostgreSQL failed with a StoreError (a 500) or a raw UnicodeEncodeError, SQLite
blamed "a stored record is not valid JSON"."""

from __future__ import annotations

import pytest

from customer_core import CustomerService, InvalidRequestError


@pytest.mark.parametrize(
    ("key", "shown"), [("k\x00", "'k\\x00'"), ("k\udcff", "'k\\udcff'"), ("\x00", "'\\x00'")]
)
def test_a_key_that_is_no_header_text_is_refused(
    service: CustomerService, key: str, shown: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        service.create(name="Jenny", idempotency_key=key)
    assert caught.value.to_dict() == {
        "error": {
            "message": f"Invalid idempotency key: {shown}; it must be Unicode text without "
            "NUL characters, such as a V4 UUID.",
            "param": "idempotency_key",
            "type": "invalid_request_error",
        }
    }
    assert caught.value.http_status == 400
    assert service.list().data == []
    customer = service.create(name="Jenny")
    with pytest.raises(InvalidRequestError):
        service.update(customer.id, name="Jo", idempotency_key=key)
    assert service.retrieve(customer.id).name == "Jenny"


def test_a_key_with_text_beyond_ascii_is_a_key(service: CustomerService) -> None:
    first = service.create(name="Jenny", idempotency_key="clé-✓")
    again = service.create(name="Jenny", idempotency_key="clé-✓")
    assert again.id == first.id
    assert len(service.list().data) == 1


def test_a_path_id_with_a_nul_is_no_such_customer(service: CustomerService) -> None:
    for call in (service.retrieve, service.delete):
        with pytest.raises(InvalidRequestError) as caught:
            call("cus_\x00x")
        assert (caught.value.code, caught.value.http_status) == ("resource_missing", 404)
        assert caught.value.message == "No such customer: 'cus_\x00x'"
    with pytest.raises(InvalidRequestError) as caught:
        service.update("cus_\x00x", name="Jo")
    assert (caught.value.code, caught.value.http_status) == ("resource_missing", 404)
