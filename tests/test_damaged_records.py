"""A stored customer record changed outside customer_core (by hand, or by another program)
is a StoreError naming it, not a raw KeyError or pydantic ValidationError from the model."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore, StoreError


def test_a_damaged_record_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    with SQLiteStore(path) as store:
        service = CustomerService(store)
        customer = service.create(email="k1@example.com")
        edit = sqlite3.connect(path)
        edit.execute("""UPDATE customers SET body = '{"id":1}'""")
        edit.commit()
        edit.close()
        with pytest.raises(StoreError) as caught:
            service.retrieve(customer.id)
        assert caught.value.message == (
            "A stored customer record is damaged (id 1: missing field 'address'); "
            "it was changed outside customer_core."
        )
        assert caught.value.to_dict()["error"]["type"] == "api_error"
        with pytest.raises(StoreError) as caught:
            _ = service.list().data
        assert caught.value.message == (
            "A stored customer record is damaged (id 1: id: input should be a valid string); "
            "it was changed outside customer_core."
        )
