"""Recording events with the change they describe, and reading them back (``svc.events``).

``EventLog.record`` writes an event through the store inside the write's own
transaction, so the change and its event are committed together or not at all. Ids come
from the service's clock and seed (``evt_`` + ULID), so seeded runs are reproducible.
Events older than the retention (30 days by default) are purged now and then, and are
never shown even before that.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainValidator

from ..errors import InvalidRequestError, no_such
from ..expand import check_list_expand
from ..ids import Clock, EventIdGenerator, go_on_after, system_clock
from ..models import Record
from ..pagination import created_range, cursor_range, trim_page
from ..params import Created, Cursor, Expand, Limit, _array, _Params, parse, path_id, text
from ..store.base import (
    PURGE_LIMIT,
    KeyRange,
    PreviousAttributes,
    SortKey,
    Store,
    event_of,
    resolved,
)
from .delivery_filter import DeliverySuccess, scan_events
from .models import Event, EventListPage, matching_types
from .outbox import Webhooks
from .subscribers import EventBus

__all__ = [
    "DEFAULT_RETENTION",
    "EventListParams",
    "EventLog",
    "EventParts",
    "EventRetrieveParams",
    "RequestInfo",
    "no_such_event",
]

DEFAULT_RETENTION = 30 * 24 * 60 * 60
"""Seconds an event is kept: Stripe keeps events retrievable for 30 days."""
PURGE_EVERY = 1000
"""Recorded events between two purges of expired ones."""
MAX_TYPES = 20

RequestInfo = Mapping[str, Any]
"""An event's ``request``: ``{"id": Request-Id or None, "idempotency_key": key or None}``."""
EventParts = tuple[str, int, str, str | None, str | None, int]
"""A new event's id, created time, type, request id, idempotency key and
``pending_webhooks`` (``EventLog.new_event``)."""


class EventListParams(_Params):
    """Parameters of ``GET /v1/events``."""

    created: Created = None  # type: ignore[assignment]  # absent means no filter
    delivery_success: DeliverySuccess = None
    ending_before: Cursor = None
    expand: Expand = ()
    limit: Limit = 10
    starting_after: Cursor = None
    type: Annotated[str | None, PlainValidator(text(clearable=False))] = None
    types: Annotated[
        tuple[Annotated[str, PlainValidator(text(clearable=False))], ...] | None,
        BeforeValidator(_array(clearable=False)),
    ] = None


class EventRetrieveParams(_Params):
    """Parameters of ``GET /v1/events/{id}``."""

    expand: Expand = ()


def no_such_event(
    event_id: object, *, param: str = "id", http_status: int = 404
) -> InvalidRequestError:
    """Stripe's ``No such event: 'evt_x'`` (404 for a path id, 400 for a param)."""
    return no_such("event", event_id, param=param, http_status=http_status)


class EventLog:
    """The events of one service: recorded with each change, listed like Stripe's.

    ``svc.events.list(type="customer.*", limit=3)``, ``svc.events.retrieve("evt_...")``.
    """

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        *,
        clock: Clock,
        seed: int | str | None,
        retention: float = DEFAULT_RETENTION,
        enabled: bool = True,
        webhooks: Webhooks | None = None,
    ) -> None:
        self._store = store
        self._webhooks = webhooks
        self._bus = bus
        # The system clock's own function: one Python call fewer an event.
        self._clock = time.time if clock is system_clock else clock
        # A stream of its own, so that recording events leaves customer ids as they were.
        self._ids = EventIdGenerator(clock, None if seed is None else f"{seed}:events")
        self.retention = retention
        self.enabled = enabled
        # The first event purges (a short-lived process, such as the CLI, purges too), then
        # every PURGE_EVERY-th: a purge is bounded (PURGE_LIMIT), so the first costs little.
        self._since_purge = PURGE_EVERY - 1

    def id_state(self) -> object:
        """Where the event id generator stands (for ``CustomerService.snapshot``)."""
        return self._ids.get_state()

    def set_id_state(self, state: object) -> None:
        """Put the event id generator back where ``id_state`` saw it."""
        self._ids.set_state(state)

    def start_ids_after(self, newest: str | None) -> None:
        """Make event ids after ``newest``, the store's newest, and after any the store
        holds where they would go on (a restarted seeded service: ``ids.go_on_after``)."""
        store = self._store
        go_on_after(
            self._ids, newest, self._ids.event_id, lambda id: store.event_get(id) is not None
        )

    # --- recording (inside the write's transaction) -----------------------------------

    def record(
        self,
        type: str,
        customer: Record,
        request: RequestInfo,
        previous_attributes: Record | PreviousAttributes | None = None,
    ) -> None:
        """Write a ``type`` event about ``customer`` (its JSON form after the change).

        The store gets the event's parts (``Store.event_add``): the event dict itself is
        made only for subscribers, so an event with none costs no dict and no encoding of
        its head."""
        # new_event and recorded inline (every write with events passes here): no tuple of
        # parts, and recorded only when a subscriber waits or a purge is due.
        clock_reading = self._clock()  # one reading: the id's millisecond and created
        event_id = self._ids.event_id(clock_reading)
        webhooks = self._webhooks
        pending = 0 if webhooks is None else webhooks.enqueue(event_id, type)
        now = int(clock_reading)
        request_id, key = request.get("id"), request.get("idempotency_key")
        self._store.event_add(
            event_id, now, type, customer, request_id, key, pending, previous_attributes
        )
        if self._bus.subscribed or self._since_purge >= PURGE_EVERY - 1:
            parts = (event_id, now, type, request_id, key, pending)
            self.recorded(parts, customer, previous_attributes)
        else:
            self._since_purge += 1

    def alone(self) -> bool:
        """Whether an event made now reaches no one but the store: no subscriber waits for
        it and no webhook endpoint is enabled. Then the write it describes and the event
        can go to the store in one call (``Store.insert_with_event``) with no write block
        around them; else they are written inside ``bus.writing()``, where the event's
        deliveries and its subscribers' ticket join the same transaction."""
        webhooks = self._webhooks
        return not self._bus.subscribed and (webhooks is None or not webhooks.has_endpoints())

    def new_event(self, type: str, request: RequestInfo, *, alone: bool = False) -> EventParts:
        """A new event's parts but its object and ``previous_attributes`` (``Store.event_add``'s
        arguments): its id, created time, type, request id and key, and
        ``pending_webhooks``, the deliveries written for it (in the caller's transaction,
        if an endpoint wants it; none when ``alone``, which ``alone()`` said just before)."""
        clock_reading = self._clock()  # one reading: the id's millisecond and created
        now = int(clock_reading)
        event_id = self._ids.event_id(clock_reading)
        webhooks = self._webhooks
        pending = 0 if alone or webhooks is None else webhooks.enqueue(event_id, type)
        return (event_id, now, type, request.get("id"), request.get("idempotency_key"), pending)

    def recorded(
        self,
        parts: EventParts,
        customer: Record,
        previous_attributes: Record | PreviousAttributes | None = None,
    ) -> None:
        """After the store took the event of ``new_event``'s ``parts``: the event for
        subscribers (its dict made only for them), and now and then a purge of expired
        events."""
        if self._bus.subscribed:
            self._bus.collect(
                event_of(
                    parts[0],
                    parts[1],
                    parts[2],
                    customer,
                    parts[3],
                    parts[4],
                    parts[5],
                    resolved(previous_attributes),
                )
            )
        self._since_purge += 1
        if self._since_purge >= PURGE_EVERY:
            # A full bite leaves more: the next event purges again (a backlog goes in bites).
            removed = self._store.event_purge(before=self._oldest_kept(parts[1]), limit=PURGE_LIMIT)
            self._since_purge = PURGE_EVERY if removed >= PURGE_LIMIT else 0

    def _oldest_kept(self, now: float) -> int:
        return int(now - self.retention)

    # --- reading ------------------------------------------------------------------------

    def retrieve(self, id: str, /, **params: Any) -> Event:
        """Return an event by id (``GET /v1/events/{id}``)."""
        parse(EventRetrieveParams, params)
        record = self._get(path_id(id, "id", "evt_..."))
        if record is None:
            raise no_such_event(id)
        return Event.from_record(self._with_pending([record])[0])

    def _get(self, event_id: str) -> Record | None:
        record = self._store.event_get(event_id)
        if record is None or record["created"] < self._oldest_kept(self._clock()):
            return None
        return record

    def _with_pending(self, records: list[Record]) -> list[Record]:
        """The events with ``pending_webhooks`` as it is now (deliveries not yet made)."""
        return records if self._webhooks is None else self._webhooks.with_pending(records)

    def _sort_key(self, event_id: str) -> SortKey | None:
        record = self._get(event_id)
        return None if record is None else (record["created"], record["id"])

    def list(self, /, **params: Any) -> EventListPage:
        """Return a page of events, newest first (``GET /v1/events``).

        ``type`` is a name or a ``*`` wildcard pattern (``customer.*``); ``types`` is up to
        20 names; not both. ``created``, ``limit`` and the cursors work as for customers.
        ``delivery_success`` keeps the events whose webhooks were all delivered (true) or
        not yet (false).
        """
        p = parse(EventListParams, params)
        check_list_expand(p.expand)
        if p.type is not None and p.types is not None:
            msg = "You may pass either type or types, but not both."
            raise InvalidRequestError(msg, param="types")
        if p.types is not None and len(p.types) > MAX_TYPES:
            msg = f"Invalid types: you may pass at most {MAX_TYPES} event types, but you passed {len(p.types)}."
            raise InvalidRequestError(msg, param="types")
        if p.types is not None and any("*" in name for name in p.types):
            msg = "Invalid types: wildcards are only allowed in type, not in types."
            raise InvalidRequestError(msg, param="types")
        cursor_keys, descending = cursor_range(
            p.starting_after,
            p.ending_before,
            self._sort_key,
            lambda cursor, param: no_such_event(cursor, param=param, http_status=400),
        )
        key_range = created_range(p.created).intersect(cursor_keys)
        key_range = key_range.intersect(KeyRange(lower=(self._oldest_kept(self._clock()), "")))
        patterns = p.types if p.types is not None else None if p.type is None else (p.type,)
        types = None if patterns is None else matching_types(patterns)
        records, has_more = trim_page(
            scan_events(
                self._store,
                key_range,
                descending=descending,
                types=types,
                limit=p.limit + 1,
                delivery_success=p.delivery_success,
            ),
            p.limit,
            descending,
        )
        return EventListPage(self._with_pending(records), has_more)
