"""The webhook outbox (``svc.webhooks``): deliveries written with the events they deliver,
the retry schedule, and what readers see of deliveries (``pending_webhooks``, attempts).

Recording an event writes one delivery per enabled endpoint that wants its type, in the
event's own transaction, so an event is never committed without its deliveries (nor the
reverse). A delivery worker (``svc.webhooks.start_delivery()``, customer_core.events.delivery)
takes due deliveries from the store, POSTs them and settles them: removed once a 2xx came
back, else retried on ``RetryPolicy``'s schedule until it gives up. An event's
``pending_webhooks`` is its deliveries not yet made, read back from the outbox.

The outbox keeps no HTTP detail; an event recorded while no endpoint exists costs one
attribute check (the enabled endpoints are cached, reloaded at most once a second, and at
once after a change through this service).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import PlainValidator

from ..errors import InvalidRequestError, no_such
from ..expand import check_list_expand
from ..ids import Clock
from ..models import Record, _Model, _Page
from ..pagination import created_range, cursor_range, trim_page
from ..params import Created, Cursor, Expand, Limit, _Params, parse, text
from ..settings import check_count, check_seconds
from ..store.base import SortKey, Store
from .webhooks import no_such_webhook_endpoint

if TYPE_CHECKING:
    from .delivery import DeliveryWorker

__all__ = [
    "DEFAULT_ENDPOINT_REFRESH",
    "DeliveryAttempt",
    "DeliveryAttemptList",
    "RetryPolicy",
    "Webhooks",
]

DEFAULT_ENDPOINT_REFRESH = 1.0
"""Seconds the enabled endpoints are cached for; a change made by another process (or
host) reaches this process's events within that time."""


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed delivery is tried again, and when it is given up.

    The n-th retry waits ``first_delay * factor ** (n - 1)`` seconds, at most ``max_delay``,
    spread by +-``jitter`` (a fraction) so that many failures do not retry in step. A
    delivery is given up after ``max_attempts`` attempts (None: no limit) or once it is
    ``max_age`` seconds old, as Stripe gives up after three days.

    >>> RetryPolicy(first_delay=1, factor=2, max_delay=5, jitter=0).delay(4)
    5.0
    """

    first_delay: float = 60.0
    factor: float = 2.0
    max_delay: float = 6 * 60 * 60
    max_attempts: int | None = None
    max_age: float = 3 * 24 * 60 * 60
    jitter: float = 0.1

    def __post_init__(self) -> None:
        for name in ("first_delay", "max_delay", "max_age"):
            check_seconds(name, getattr(self, name), zero=True, endless=True)
        if isinstance(self.factor, bool) or not isinstance(self.factor, (int, float)):
            raise TypeError(f"factor must be a number, not {self.factor!r}.")
        if not 1 <= self.factor < math.inf:
            raise ValueError(f"factor must be a finite number from 1, not {self.factor!r}.")
        if self.max_attempts is not None:
            check_count("max_attempts", self.max_attempts)
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, (int, float)):
            raise TypeError(f"jitter must be a number, not {self.jitter!r}.")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be a fraction from 0 to below 1, not {self.jitter!r}.")

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        base = min(self.first_delay * self.factor ** max(0, attempts - 1), self.max_delay)
        if self.jitter and base:
            base *= 1 + (rng or random).uniform(-self.jitter, self.jitter)
        return float(base)

    def after_failure(
        self, delivery: Record, now: float, rng: random.Random | None = None
    ) -> Record:
        """The delivery after one more failed attempt: pending with its next attempt
        scheduled, or ``failed`` (given up)."""
        attempts = delivery["attempts"] + 1
        next_attempt = now + self.delay(attempts, rng)
        given_up = (self.max_attempts is not None and attempts >= self.max_attempts) or (
            next_attempt - delivery["created"] > self.max_age
        )
        if given_up:
            return {**delivery, "attempts": attempts, "status": "failed", "next_attempt": now}
        return {**delivery, "attempts": attempts, "next_attempt": next_attempt}


class DeliveryAttempt(_Model):
    """One attempt to deliver an event to a webhook endpoint (a customer_core extension:
    Stripe shows attempts in its Dashboard only)."""

    id: str
    object: Literal["webhook_delivery_attempt"] = "webhook_delivery_attempt"
    created: int
    endpoint: str
    event: str
    attempt: int
    url: str
    status_code: int | None
    error: str | None
    duration_ms: int
    succeeded: bool
    next_attempt: int | None
    """When the delivery is tried again; None once it was made or given up."""


class DeliveryAttemptList(_Page):
    """A page of delivery attempts, newest first."""

    object = "list"
    url = "/v1/webhook_delivery_attempts"
    __slots__ = ()

    @property
    def data(self) -> list[DeliveryAttempt]:  # type: ignore[override]
        return [DeliveryAttempt.model_validate(record) for record in self._records]

    def __repr__(self) -> str:
        return f"<DeliveryAttemptList of {len(self._records)}, has_more={self.has_more}>"


class DeliveryAttemptListParams(_Params):
    """Parameters of ``svc.webhooks.attempts``."""

    created: Created = None  # type: ignore[assignment]  # absent means no filter
    ending_before: Cursor = None
    endpoint: Annotated[str | None, PlainValidator(text(clearable=False))] = None
    expand: Expand = ()
    limit: Limit = 10
    starting_after: Cursor = None


def no_such_delivery_attempt(attempt_id: object, *, param: str) -> InvalidRequestError:
    """``No such webhook delivery attempt: 'wda_x'``, for a list cursor (400)."""
    return no_such("webhook delivery attempt", attempt_id, param=param, http_status=400)


class Webhooks:
    """``svc.webhooks``: the deliveries of a service's events to its webhook endpoints.

    ``svc.webhooks.start_delivery()`` starts a worker that makes them;
    ``svc.webhooks.attempts(endpoint="we_...")`` lists what the attempts got back.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = time.time,
        endpoint_refresh: float = DEFAULT_ENDPOINT_REFRESH,
    ) -> None:
        self._store = store
        self.clock = clock
        """Wall-clock time of deliveries (the worker signs with it, so it stays the real
        time even when the service's clock is frozen)."""
        self._endpoint_refresh = endpoint_refresh
        self._endpoints: tuple[tuple[str, frozenset[str] | None], ...] = ()
        self.endpoint_changes = 0
        """How many times this service changed an endpoint (caches compare it)."""
        self._loaded_at = -math.inf
        self._listeners: tuple[Callable[[], None], ...] = ()
        self._listeners_lock = threading.Lock()

    @property
    def store(self) -> Store:
        return self._store

    # --- writing, inside the event's transaction --------------------------------------

    def endpoints_changed(self) -> None:
        """Forget the cached endpoints: the next event reads them again (and so does a
        delivery worker of this service: ``endpoint_changes`` counts the calls)."""
        self._loaded_at = -math.inf
        self.endpoint_changes += 1

    def _enabled_endpoints(self) -> tuple[tuple[str, frozenset[str] | None], ...]:
        now = time.monotonic()
        if now - self._loaded_at > self._endpoint_refresh:
            self._endpoints = tuple(
                (
                    record["id"],
                    None
                    if "*" in record["enabled_events"]
                    else frozenset(record["enabled_events"]),
                )
                for record in self._store.webhook_endpoint_scan(descending=False)
                if record["status"] == "enabled"
            )
            self._loaded_at = now
        return self._endpoints

    def has_endpoints(self) -> bool:
        """Whether an enabled endpoint is known (as ``enqueue`` reads them: cached for
        ``endpoint_refresh`` seconds)."""
        return bool(self._enabled_endpoints())

    def endpoint_count(self) -> int:
        """How many enabled endpoints there are (as ``enqueue`` reads them: cached for
        ``endpoint_refresh`` seconds)."""
        return len(self._enabled_endpoints())

    def enqueue(self, event_id: str, event_type: str) -> int:
        """Write a delivery of the event to each enabled endpoint that wants its type (in
        the caller's transaction); return how many: the event's ``pending_webhooks``."""
        endpoints = self._enabled_endpoints()
        if not endpoints:
            return 0
        wanted = [
            endpoint_id for endpoint_id, types in endpoints if types is None or event_type in types
        ]
        if not wanted:
            return 0
        now = self.clock()
        self._store.outbox_add(
            [
                {
                    "event": event_id,
                    "endpoint": endpoint_id,
                    "created": now,
                    "next_attempt": now,
                    "attempts": 0,
                    "status": "pending",
                }
                for endpoint_id in wanted
            ]
        )
        for listener in self._listeners:
            listener()
        return len(wanted)

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (cheap, non-blocking: it runs inside a write) whenever
        deliveries are written; return a function that removes it. Workers wake on it."""
        with self._listeners_lock:
            self._listeners = (*self._listeners, listener)

        def remove() -> None:
            with self._listeners_lock:
                self._listeners = tuple(item for item in self._listeners if item is not listener)

        return remove

    # --- reading -------------------------------------------------------------------------

    def with_pending(self, events: list[Record]) -> list[Record]:
        """Set each event's ``pending_webhooks`` to its deliveries not yet made (an event
        recorded with none is left alone: it never gets any)."""
        waiting = [event["id"] for event in events if event.get("pending_webhooks")]
        if waiting:
            counts = self._store.outbox_pending(waiting)
            for event in events:
                if event.get("pending_webhooks"):
                    event["pending_webhooks"] = counts.get(event["id"], 0)
        return events

    def attempts(self, /, **params: Any) -> DeliveryAttemptList:
        """Return delivery attempts, newest first: ``endpoint`` (an id) keeps those to one
        endpoint; ``created``, ``limit`` (1 to 100) and the cursors (``starting_after``,
        ``ending_before``: attempt ids) work as the customer list's."""
        p = parse(DeliveryAttemptListParams, params)
        check_list_expand(p.expand)
        cursor_keys, descending = cursor_range(
            p.starting_after,
            p.ending_before,
            self._attempt_key,
            lambda cursor, param: no_such_delivery_attempt(cursor, param=param),
        )
        if p.endpoint is not None and self._store.webhook_endpoint_get(p.endpoint) is None:
            # An id in a param that names nothing: Stripe's 400 resource_missing.
            raise no_such_webhook_endpoint(p.endpoint, param="endpoint", http_status=400)
        records, has_more = trim_page(
            self._store.delivery_attempt_scan(
                created_range(p.created).intersect(cursor_keys),
                endpoint=p.endpoint,
                descending=descending,
                limit=p.limit + 1,
            ),
            p.limit,
            descending,
        )
        return DeliveryAttemptList(records, has_more)

    def _attempt_key(self, attempt_id: str) -> SortKey | None:
        attempt = self._store.delivery_attempt_get(attempt_id)
        return None if attempt is None else (attempt["created"], attempt["id"])

    # --- delivering ----------------------------------------------------------------------

    def start_delivery(self, **options: Any) -> DeliveryWorker:
        """Start a worker that delivers this service's events to its endpoints, off the
        request path; ``options`` are ``DeliveryWorker``'s (``retry``, ``timeout``,
        ``concurrency``, ...). Stop it (``worker.stop()``, or use it as a context manager)
        before closing the store."""
        from .delivery import DeliveryWorker

        return DeliveryWorker(self, **options).start()
