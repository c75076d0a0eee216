"""In-process subscribers: callbacks that run after a write commits, in commit order.

The service makes every write inside ``bus.writing()``, a store transaction that also
collects the events recorded in it. When the outermost block is about to commit, still
holding the store's write lock, its events take a ticket in a queue, so tickets are in
commit order; once the commit succeeded (or failed) the ticket is settled, and whichever
thread finds settled tickets at the head of the queue runs their callbacks, one event at
a time, in that order. A callback's exception is logged and never reaches the writer or
the other subscribers.
"""

from __future__ import annotations

import logging
import marshal
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidRequestError
from ..models import Record
from ..store.base import BlockDepth, Store, ThreadBlock
from .models import Event, matching_types

__all__ = ["EventBus", "Subscriber"]

logger = logging.getLogger("customer_core.events")

Subscriber = Callable[[Event], Any]
"""A callback given each matching event once, after its write committed."""


@dataclass(frozen=True)
class _Subscription:
    callback: Subscriber
    types: frozenset[str] | None


class _Ticket:
    __slots__ = ("committed", "events")

    def __init__(self, events: list[Record]) -> None:
        self.events = events
        self.committed: bool | None = None


class EventBus:
    """Collects the events of each write and hands them to subscribers after commit."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._subscriptions: tuple[_Subscription, ...] = ()
        self._subscriptions_lock = threading.Lock()
        self._queue: deque[_Ticket] = deque()
        self._queue_lock = threading.Lock()
        self._draining = False
        self._writing = _Writing(self)

    def writing(self) -> _Writing:
        """A store transaction whose recorded events reach subscribers once it committed."""
        return self._writing

    @property
    def subscribed(self) -> bool:
        """Whether any callback is subscribed."""
        return bool(self._subscriptions)

    def subscribe(
        self, callback: Subscriber, types: Iterable[str] | None = None
    ) -> Callable[[], None]:
        """Call ``callback(event)`` for every event of ``types`` (names or ``*`` patterns;
        None: all) committed from now on; return a function that unsubscribes."""
        if not callable(callback):
            msg = (
                f"Invalid callback: {callback!r} is not callable; pass a function taking an Event."
            )
            raise InvalidRequestError(msg, param="callback")
        if isinstance(types, str):
            types = [types]
        wanted = None if types is None else list(types)
        selected = None if wanted is None else matching_types(wanted)
        if wanted is not None and not selected:
            msg = f"Invalid types: {', '.join(wanted) or '(none)'} names no event type this library records."
            raise InvalidRequestError(msg, param="types")
        subscription = _Subscription(callback, selected)
        with self._subscriptions_lock:
            self._subscriptions = (*self._subscriptions, subscription)

        def unsubscribe() -> None:
            with self._subscriptions_lock:
                self._subscriptions = tuple(s for s in self._subscriptions if s is not subscription)

        return unsubscribe

    def collect(self, event: Record) -> None:
        """Keep a copy of an event recorded in the current write, if anyone listens."""
        if self._subscriptions:
            pending = self._writing.local.pending
            assert pending is not None, "events are recorded inside bus.writing()"
            pending.append(marshal.loads(marshal.dumps(event)))

    def _settle(self, ticket: _Ticket, committed: bool) -> None:
        with self._queue_lock:
            ticket.committed = committed
            if self._draining:
                return  # the thread draining the queue will get to it
            self._draining = True
        while True:
            with self._queue_lock:
                if not self._queue or self._queue[0].committed is None:
                    self._draining = False
                    return
                head = self._queue.popleft()
            if head.committed:
                for record in head.events:
                    self._publish(record)

    def _publish(self, record: Record) -> None:
        event = Event.from_record(record)
        for subscription in self._subscriptions:
            if subscription.types is not None and event.type not in subscription.types:
                continue
            try:
                subscription.callback(event)
            except Exception:
                logger.exception(
                    "event subscriber %r failed on %s (%s)",
                    subscription.callback,
                    event.id,
                    event.type,
                )


class _Pending(BlockDepth):
    """One thread's write block: how deep it is and the events recorded in it so far."""

    pending: list[Record] | None = None


class _Writing(ThreadBlock):
    """``EventBus.writing()``: the store transaction of the outermost block, whose events
    take their ticket while it still holds the store's write lock."""

    __slots__ = ("_bus", "_transaction")
    local: _Pending

    def __init__(self, bus: EventBus) -> None:
        super().__init__(_Pending())
        self._bus = bus
        self._transaction = bus._store.transaction()

    def _open(self) -> None:
        self._transaction.__enter__()
        self.local.pending = []

    def _close(self, error: BaseException | None) -> None:
        bus = self._bus
        local = self.local
        pending, local.pending = local.pending, None
        ticket = None
        if pending and error is None:
            # Still under the store's write lock: the queue is in commit order.
            ticket = _Ticket(pending)
            with bus._queue_lock:
                bus._queue.append(ticket)
        try:
            if error is None:
                self._transaction.__exit__(None, None, None)
            else:
                self._transaction.__exit__(type(error), error, error.__traceback__)
        except BaseException:
            if ticket is not None:
                bus._settle(ticket, committed=False)
            raise
        if ticket is not None:
            bus._settle(ticket, committed=True)
