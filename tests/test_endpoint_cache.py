"""The delivery worker's endpoint cache: endpoints are read once per refresh, not once a
delivery; a change through the service is seen at once, one from elsewhere within the
refresh; a missing or disabled endpoint is always read again (a delivery is canceled only
on what the store says now). Time is a fake clock: nothing here waits."""

from __future__ import annotations

from typing import Any

from customer_core import CustomerService, MemoryStore
from customer_core.events.delivery import EndpointCache
from customer_core.models import Record
from customer_core.testing import FakeClock


class CountingStore(MemoryStore):
    """A memory store that counts endpoint reads."""

    reads = 0

    def webhook_endpoint_get(self, endpoint_id: str) -> Record | None:
        self.reads += 1
        return super().webhook_endpoint_get(endpoint_id)


def setup() -> tuple[CustomerService, CountingStore, EndpointCache, FakeClock, str]:
    store = CountingStore()
    service = CustomerService(store)
    endpoint = service.webhook_endpoints.create(url="http://127.0.0.1:9/a", enabled_events=["*"])
    clock = FakeClock(1000.0)
    cache = EndpointCache(service.webhooks, refresh=1.0, clock=clock)
    store.reads = 0
    return service, store, cache, clock, endpoint.id


def stored(store: MemoryStore, endpoint_id: str) -> Record:
    record = store.webhook_endpoint_get(endpoint_id)
    assert record is not None
    return record


def url(record: dict[str, Any] | None) -> object:
    return None if record is None else record["url"]


def test_an_endpoint_is_read_once_per_refresh() -> None:
    _, store, cache, clock, endpoint_id = setup()
    for _ in range(5):
        assert url(cache.get(endpoint_id)) == "http://127.0.0.1:9/a"
    assert store.reads == 1
    clock.advance(1.0)
    cache.get(endpoint_id)
    assert store.reads == 1  # a refresh's age is not past yet
    clock.advance(0.5)
    cache.get(endpoint_id)
    assert store.reads == 2


def test_a_change_through_the_service_is_seen_at_once() -> None:
    service, _, cache, _, endpoint_id = setup()
    cache.get(endpoint_id)
    service.webhook_endpoints.update(endpoint_id, url="http://127.0.0.1:9/b")
    assert url(cache.get(endpoint_id)) == "http://127.0.0.1:9/b"
    service.webhook_endpoints.update(endpoint_id, disabled=True)
    record = cache.get(endpoint_id)
    assert record is not None and record["status"] == "disabled"
    service.webhook_endpoints.delete(endpoint_id)
    assert cache.get(endpoint_id) is None


def test_a_change_elsewhere_is_seen_within_the_refresh() -> None:
    service, store, cache, clock, endpoint_id = setup()
    cache.get(endpoint_id)
    # Another process changes the stored endpoint: this service is not told.
    changed = {**stored(store, endpoint_id), "url": "http://127.0.0.1:9/c"}
    store.webhook_endpoint_put(changed)
    assert url(cache.get(endpoint_id)) == "http://127.0.0.1:9/a"
    clock.advance(1.5)
    assert url(cache.get(endpoint_id)) == "http://127.0.0.1:9/c"
    assert service.webhooks.endpoint_changes == 1  # the create only


def test_missing_and_disabled_endpoints_are_always_read_again() -> None:
    _, store, cache, _, endpoint_id = setup()
    assert cache.get("we_missing") is None
    assert cache.get("we_missing") is None
    assert store.reads == 2
    disabled = {**stored(store, endpoint_id), "status": "disabled"}
    store.webhook_endpoint_put(disabled)
    store.reads = 0
    for _ in range(3):
        record = cache.get(endpoint_id)
        assert record is not None and record["status"] == "disabled"
    assert store.reads == 3
    # Enabled again elsewhere: the next delivery sees it, it is not canceled.
    store.webhook_endpoint_put({**disabled, "status": "enabled"})
    record = cache.get(endpoint_id)
    assert record is not None and record["status"] == "enabled"
