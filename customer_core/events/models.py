"""Event objects as Stripe shapes them, the list page of events, and event type names.

An event is stored as its Stripe JSON form (a plain dict); ``Event`` is the validated
model callers get, and ``Event.to_dict()`` gives back that JSON form key for key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import model_serializer

from ..models import Record, _Model, _Page

__all__ = [
    "CUSTOMER_EVENT_TYPES",
    "EVENT_TYPES",
    "TAX_ID_EVENT_TYPES",
    "Event",
    "EventData",
    "EventListPage",
    "EventRequest",
    "matching_types",
]

CUSTOMER_EVENT_TYPES: tuple[str, ...] = ("customer.created", "customer.deleted", "customer.updated")
"""The events of a customer's own changes (``data.object``: the customer)."""
TAX_ID_EVENT_TYPES: tuple[str, ...] = (
    "customer.tax_id.created",
    "customer.tax_id.deleted",
    "customer.tax_id.updated",
)
"""The events of a customer's tax IDs (``data.object``: the tax ID). ``updated`` is
Stripe's event for a verification change; this library verifies nothing, so it is a name
endpoints and filters accept but never recorded (docs/decisions.md)."""
EVENT_TYPES: tuple[str, ...] = CUSTOMER_EVENT_TYPES + TAX_ID_EVENT_TYPES
"""The event types this library knows: endpoints may ask for them, filters name them."""


class EventData(_Model):
    """``data``: the object after the change, and for ``*.updated`` what it was before."""

    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None = None

    @model_serializer(mode="wrap")
    def _leave_out_absent(self, serialize: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        # Stripe includes previous_attributes only in *.updated events.
        body = serialize(self)
        if body.get("previous_attributes") is None:
            body.pop("previous_attributes", None)
        return body


class EventRequest(_Model):
    """``request``: the API request that caused the event (Request-Id, idempotency key)."""

    id: str | None = None
    idempotency_key: str | None = None


class Event(_Model):
    """A Stripe event: ``{id: "evt_...", object: "event", api_version, created, data,
    livemode, pending_webhooks, request, type}``."""

    id: str
    object: Literal["event"] = "event"
    api_version: str | None = None
    created: int
    data: EventData
    livemode: bool = False
    pending_webhooks: int = 0
    request: EventRequest | None = None
    type: str

    @classmethod
    def from_record(cls, record: Record) -> Event:
        """Build an Event from its stored JSON form."""
        return cls.model_validate(record)


class EventListPage(_Page):
    """One page of ``GET /v1/events``: ``{object: "list", url, has_more, data}``."""

    object = "list"
    url = "/v1/events"
    __slots__ = ()

    @property
    def data(self) -> list[Event]:  # type: ignore[override]
        """The events on this page, newest first."""
        return [Event.from_record(record) for record in self._records]

    def __repr__(self) -> str:
        return f"<EventListPage of {len(self._records)} events, has_more={self.has_more}>"


def matching_types(patterns: Iterable[str]) -> frozenset[str]:
    """The event types that names or ``*`` wildcard patterns (``customer.*``, ``*``) name;
    a name this library never records matches nothing.

    >>> sorted(matching_types(["customer.tax_id.*"]))
    ['customer.tax_id.created', 'customer.tax_id.deleted', 'customer.tax_id.updated']
    >>> len(matching_types(["customer.*"]))  # a * spans dots, as Stripe's does
    6
    >>> sorted(matching_types(["invoice.paid", "customer.created"]))
    ['customer.created']
    """
    found: set[str] = set()
    for pattern in patterns:
        if "*" not in pattern:
            found.add(pattern)
            continue
        regex = re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
        found.update(name for name in EVENT_TYPES if regex.fullmatch(name))
    return frozenset(found) & frozenset(EVENT_TYPES)
