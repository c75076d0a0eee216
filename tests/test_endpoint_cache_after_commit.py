"""A new webhook endpoint is told to the endpoint cache after its creation commits, not
inside the write block the service runs it in: another thread reading the endpoints again
in between would cache the list without it (the final read of 2026-12-03)."""

from __future__ import annotations

from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.events.webhooks import serve_endpoint


def test_the_cache_is_told_after_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SQLiteStore(tmp_path / "customers.db") as store:
        depths: list[int] = []
        webhooks = type(CustomerService(store).webhooks)
        told = webhooks.endpoints_changed

        def record_depth(self: object) -> None:
            depths.append(store.transaction().depth)
            told(self)  # type: ignore[arg-type]

        monkeypatch.setattr(webhooks, "endpoints_changed", record_depth)
        # Events on (creations run in a write block); its hook bound to the recording method.
        service = CustomerService(store)
        service.webhook_endpoints.create(url="http://127.0.0.1:9/a", enabled_events=["*"])
        assert depths and depths[-1] == 0
        depths.clear()
        serve_endpoint(service, "http://127.0.0.1:9/serve")
        assert depths and depths[-1] == 0
