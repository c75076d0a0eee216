"""A store closed before its delivery worker is stopped (``with SQLiteStore(...)`` around
the service, ``worker.stop()`` after the block) is a caller's slip, not a failure: one
warning, no traceback, and the deliveries in flight are due again when their lease ends
(trial 4, 8: two ERROR tracebacks of StoreClosedError)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.testing.receiver import WebhookReceiver


def test_closing_the_store_first_gives_one_warning_and_keeps_the_deliveries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="customer_core.webhooks")
    path = tmp_path / "customers.db"
    hold = threading.Event()  # the receiver answers nothing until the store is closed
    with WebhookReceiver(hold=hold) as receiver:
        with SQLiteStore(path) as store:
            service = CustomerService(store)
            service.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
            worker = service.webhooks.start_delivery()
            service.create(email="a@example.com")
            receiver.wait_until(lambda: receiver.waiting >= 1, 30, "a delivery in flight")
        worker.stop()
        hold.set()
    assert [r.levelname for r in caplog.records if r.exc_info] == []
    assert [r.levelname for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("the store was closed before the worker" in r.getMessage() for r in caplog.records)
    with SQLiteStore(path) as store:  # the delivery is kept, under its lease
        assert CustomerService(store).events.list(limit=1).data[0].pending_webhooks == 1
