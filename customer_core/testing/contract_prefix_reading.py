"""Store contract, former invoice prefixes read from the record's own ``invoice_prefix``
field: never from text that merely looks like it (a metadata key named ``invoice_prefix``,
wherever it sits in the record). Mixed into ``StoreContract``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..store.base import Record, Store

__all__ = ["PrefixReadingContract"]


def _record(customer_id: str, created: int, **fields: Any) -> Record:
    """``store_contract.make_record``, imported on call: that module imports this one."""
    from .store_contract import make_record

    return make_record(customer_id, created, **fields)


class PrefixReadingContract:
    """The ``filled`` fixture comes from ``StoreContract`` (cus_a to cus_e, prefixes A to E)."""

    def make_store(self, tmp_path: Path) -> Store:
        raise NotImplementedError

    def test_a_metadata_key_named_invoice_prefix_is_not_the_prefix(self, filled: Store) -> None:
        # cus_b's metadata comes first and names its former prefix "B": still former.
        current = _record("cus_b", 20, email="shared@example.com", invoice_prefix="B2")
        del current["metadata"]
        filled.replace({"metadata": {"invoice_prefix": "B"}, **current})
        assert list(filled.get("cus_b") or {})[:2] == ["metadata", "id"]
        with filled.read_snapshot() as snapshot:
            assert list(snapshot.former_invoice_prefixes()) == [("cus_b", "B")]

    def test_a_null_prefix_with_such_a_metadata_key_holds_no_prefix(self, filled: Store) -> None:
        # After a walk a store may count the records holding a prefix; cus_n holds none.
        record = _record("cus_n", 1, invoice_prefix=None)
        record["metadata"] = {"invoice_prefix": "NX", "note": '"invoice_prefix":"NX"'}
        filled.insert(record)
        filled.replace(_record("cus_c", 20, email="shared@example.com", invoice_prefix="C2"))
        for walk in ("records_json", "records"):
            with filled.read_snapshot() as snapshot:
                assert len(list(getattr(snapshot, walk)())) == 6
                assert list(snapshot.former_invoice_prefixes()) == [("cus_c", "C")]
