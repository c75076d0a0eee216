"""The events list's ``delivery_success`` filter: events whose webhooks were all delivered,
or those with a delivery not yet made (pending, or given up after failing).

Stripe's meaning (stripe-python ``EventListParams.delivery_success``): "Filter events by
whether all webhooks were successfully delivered. If false, events which are still
pending or have failed all delivery attempts to a webhook endpoint will be returned."
Here an event is delivered exactly when its ``pending_webhooks`` is 0, so the two filters
split the events between them (an event recorded while no endpoint wanted it counts as
delivered). See docs/decisions.md.

The outbox holds only deliveries not yet made, so both walks cost O(page + undelivered
events): ``false`` reads the undelivered events by id; ``true`` asks the store for as many
more events than the page as there are undelivered ones, and leaves those out.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from pydantic import PlainValidator

from ..models import Record
from ..store.base import KeyRange, Store
from .webhooks import _boolean

__all__ = ["DeliverySuccess", "scan_events"]

DeliverySuccess = Annotated[bool | None, PlainValidator(_boolean)]
"""The ``delivery_success`` param: true or false (``"true"``/``"false"`` on the wire)."""


def scan_events(
    store: Store,
    key_range: KeyRange,
    *,
    descending: bool,
    types: Collection[str] | None,
    limit: int,
    delivery_success: bool | None,
) -> list[Record]:
    """``store.event_scan``, keeping only the events whose webhooks were all delivered
    (``delivery_success=True``) or not (False); None keeps every event."""
    if delivery_success is None:
        return store.event_scan(key_range, descending=descending, types=types, limit=limit)
    undelivered = store.outbox_event_ids()
    if delivery_success:
        # At most len(undelivered) of these are left out: the rest fill the page.
        scanned = store.event_scan(
            key_range, descending=descending, types=types, limit=limit + len(undelivered)
        )
        return [event for event in scanned if event["id"] not in undelivered][:limit]
    found = []
    for event_id in undelivered:
        event = store.event_get(event_id)
        if (
            event is not None
            and key_range.contains((event["created"], event["id"]))
            and (types is None or event["type"] in types)
        ):
            found.append(event)
    found.sort(key=lambda event: (event["created"], event["id"]), reverse=descending)
    return found[:limit]
