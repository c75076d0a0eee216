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
from types import TracebackType
from typing import Any

from ..errors import InvalidRequestError
from ..models import Record
from ..store.base import Store
from .models import Event, matching_types

__all__ = ["EventBus", "Subscriber"]

logger = logging.getLogger("customer_core.events")

Subscriber = Callable[[Event], Any]
"""A callback given each matching event once, after its write committed."""


@dataclass(frozen=True)
class _Subscription:
    callback: Subscriber
    types: frozenset[str] | None


def _type_names(types: object) -> list[str]:
    """``subscribe``'s ``types`` as a list of names (one name alone is a list of one);
    a value of another kind is a programming error, refused naming the argument."""
    if isinstance(types, str):
        return [types]
    if isinstance(types, (bytes, bytearray)) or not isinstance(types, Iterable):
        msg = f"types must be an event type name, a list of them or None, not {types!r}."
        raise TypeError(msg)
    names = list(types)
    for name in names:
        if not isinstance(name, str):
            msg = f"types must hold event type names (str), not {name!r}."
            raise TypeError(msg)
    return names


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
        self.subscribed = False
        """Whether any callback is subscribed (an attribute, not a property: every event
        reads it)."""
        self._subscriptions_lock = threading.Lock()
        self._queue: deque[_Ticket] = deque()
        self._queue_lock = threading.Lock()
        self._draining = False
        self._writing = _Writing(self)

    def writing(self) -> _Writing:
        """A store transaction whose recorded events reach subscribers once it committed."""
        return self._writing

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
        wanted = None if types is None else _type_names(types)
        selected = None if wanted is None else matching_types(wanted)
        if wanted is not None and not selected:
            # A lone surrogate shown escaped: the message must print (and encode) anywhere.
            shown = ", ".join(name.encode("utf-8", "backslashreplace").decode() for name in wanted)
            msg = f"Invalid types: {shown or '(none)'} names no event type this library records."
            raise InvalidRequestError(msg, param="types")
        subscription = _Subscription(callback, selected)
        with self._subscriptions_lock:
            self._subscriptions = (*self._subscriptions, subscription)
            self.subscribed = True

        def unsubscribe() -> None:
            with self._subscriptions_lock:
                self._subscriptions = tuple(s for s in self._subscriptions if s is not subscription)
                self.subscribed = bool(self._subscriptions)

        return unsubscribe

    def collect(self, event: Record) -> None:
        """Keep a copy of an event recorded in the current write, if anyone listens."""
        if self._subscriptions:
            pending = self._writing.pending
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


class _Block:
    """One thread's write block: how deep it is and the events recorded in it so far."""

    __slots__ = ("depth", "pending")

    def __init__(self) -> None:
        self.depth = 0
        self.pending: list[Record] | None = None


class _Blocks(threading.local):
    """Each thread's ``_Block``: one thread-local read per block entered or left (reading
    or setting a thread-local attribute costs about ten times a plain one, and every write
    with events passes here)."""

    def __init__(self) -> None:
        self.block = _Block()


class _Writing:
    """``EventBus.writing()``: a block, re-entrant per thread, whose outermost level is a
    store transaction; its events take their ticket while it still holds the store's write
    lock. Not a ``ThreadBlock``: its per-thread state is one object, read once on entry
    and once on exit, which makes the block of every write with events cost 9,000
    instructions instead of 14,000."""

    __slots__ = ("_blocks", "_bus", "_transaction")

    def __init__(self, bus: EventBus) -> None:
        self._blocks = _Blocks()
        self._bus = bus
        self._transaction = bus._store.transaction()

    @property
    def pending(self) -> list[Record] | None:
        """The events recorded so far in this thread's block (None outside one)."""
        return self._blocks.block.pending

    def __enter__(self) -> None:
        block = self._blocks.block
        if not block.depth:
            self._transaction.__enter__()  # if this raises, the block is not entered
            block.pending = []
        block.depth += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        block = self._blocks.block
        block.depth -= 1
        if block.depth:
            return
        pending, block.pending = block.pending, None
        if pending or exc is not None:
            self._close(pending, exc)
        else:
            self._transaction.__exit__(None, None, None)  # nothing for subscribers

    def _close(self, pending: list[Record] | None, error: BaseException | None) -> None:
        """End the outermost block: its events take their ticket, the transaction ends."""
        bus = self._bus
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
