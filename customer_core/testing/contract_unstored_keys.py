"""Store contract, keys no row can have: an id holding a NUL (a path id can carry one as
``%00``) is looked up like any unknown id, never an error. Mixed into ``StoreContract``.

PostgreSQL's text holds no NUL and its driver refuses to send one, so that store must
answer these lookups itself (it used to fail them with a StoreError, a 500 over HTTP).
"""

from __future__ import annotations

import pytest

from ..errors import RecordNotFoundError
from ..store.base import Store

__all__ = ["UnstoredKeyContract"]

NUL_ID = "cus_\x00x"


class UnstoredKeyContract:
    """Lookups by an id holding a NUL; the ``store`` fixture comes from ``StoreContract``."""

    @pytest.mark.parametrize("key", [NUL_ID, "\x00", "txi_\x00", "evt_a\x00b", "we_\x00"])
    def test_reads_of_an_id_with_a_nul_find_nothing(self, store: Store, key: str) -> None:
        assert store.get(key) is None
        assert store.is_deleted(key) is False
        assert store.sort_key(key) is None
        assert store.get_tax_id(key) is None
        assert store.event_get(key) is None
        assert store.webhook_endpoint_get(key) is None
        assert store.delivery_attempt_get(key) is None

    def test_deletes_of_an_id_with_a_nul_find_nothing(self, store: Store) -> None:
        with pytest.raises(RecordNotFoundError):
            store.delete_tax_id("txi_\x00")
        with pytest.raises(RecordNotFoundError):
            store.webhook_endpoint_delete("we_\x00")
