"""The delivery worker: POSTs due deliveries from the outbox to their webhook endpoints,
signed as Stripe signs them, on threads of its own (never on the request path).

One dispatcher thread takes due deliveries from the store (``outbox_claim`` leases them,
so workers of other processes do not take them too), hands them to ``concurrency`` sender
threads, and settles what came back in one store transaction per batch: a 2xx answer
removes the delivery, anything else (another status, a refused connection, a timeout)
schedules a retry by the ``RetryPolicy`` until it gives up. Every attempt is recorded.
Delivery is at least once and unordered, as Stripe's: a worker that dies mid-request
leaves its deliveries leased, and they are due again when the lease ends. A live worker
renews the leases of the deliveries it holds before they end (a batch may wait behind a
slow receiver for longer than a lease), and a sender never starts a request its lease
cannot cover to the end of the timeout: a delivery whose lease ran out (a starved
process) is left to whichever worker takes it next, so a worker that is merely slow
never sends an event twice.

The worker wakes as soon as this process records an event with deliveries; deliveries
written by other processes are found within ``poll_interval``. HTTP is a small HTTP/1.1
client (customer_core.events.sender). By default the requests are made by a helper
process (``sender_process=True``): the worker's threads claim, read each batch's events
as the store's JSON and settle, the helper pretty-prints and signs the bodies, and its
threads send and read the answers, off this process's interpreter lock; if the helper
cannot start (or dies), sender threads of this process take over. While the API is busy
the worker takes at most ``busy_rate`` deliveries a second: an in-process worker sees the
rest of its process busy, a delivery process sees deliveries keep arriving in the store
(``Store.outbox_arrivals``, on PostgreSQL).
"""

from __future__ import annotations

import logging
import math
import random
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, NamedTuple

from ..errors import StoreClosedError, StoreError
from ..ids import IdGenerator
from ..models import Record
from ..store.base import PURGE_LIMIT, Store
from .delivery_settings import check_worker_settings
from .outbox import DEFAULT_ENDPOINT_REFRESH, RetryPolicy, Webhooks
from .recording import DEFAULT_RETENTION
from .sender import (
    ABORTED,
    LEASE_ENDED,
    MAX_SENDERS,
    RECALLED,
    SENT,
    Connections,
    Endpoints,
    EventJob,
    Lanes,
    Outcome,
    SenderProcess,
    post,
    signed_body,
)
from .webhooks import masked_url

__all__ = ["DeliveryWorker", "EndpointCache"]

logger = logging.getLogger("customer_core.webhooks")

PURGE_EVERY = 60 * 60
"""Seconds between two purges of old attempts and given-up deliveries."""
IN_PROCESS_CPU_SHARE = 0.12
"""The share of one core an in-process worker's threads use at most while the API is
busy, by default: the API's process keeps the rest of its interpreter lock."""
IDLE_CPU_SHARE = 0.9
"""The share an in-process worker may use while the rest of its process is idle (no API
request to take the interpreter lock from): a backlog is delivered at nearly full speed."""
API_IDLE = 0.05
"""The rest of the process is idle when it used less than this share of a core ..."""
IDLE_WINDOW = 0.05
"""... over the last this many seconds."""
IN_PROCESS_BUSY_RATE = 700.0
"""Deliveries a second an in-process worker takes at most while the rest of its process is
busy, by default: above the 500 a second webhooks need, and every delivery more would
cost the API its share of the interpreter lock and of the cores (the sender process's
and the receiver's CPU). While the process is idle the worker takes what it can."""
ARRIVALS_WINDOW = 0.05
"""A worker with no CPU budget (a delivery process) counts the deliveries added to the
store (``Store.outbox_arrivals``) over windows of at least this many seconds ..."""
BUSY_ARRIVALS = 20.0
"""... and takes the API for busy while they arrive at this many a second or more (one in a
50 ms window): an API that keeps writing events leaves the worker ``busy_rate``."""
PACE_WINDOW = 0.05
"""A paced worker takes deliveries in chunks of this many seconds' worth (fewer, larger
store rounds and hand-overs)."""
BUSY_FLOOR = 0.25
"""While the API works, an in-process worker's rate is its share of the cores the API
got, counted as at least this many (a lightly loaded API still lets deliveries through)."""
STOP_TIMEOUT = 2.0
"""Seconds ``stop()`` keeps sending what was due when it was called, by default, before
it aborts the requests still in flight."""
ABORT_WAIT = 1.0
"""Seconds ``stop()`` waits, at most, for its senders to let go of aborted requests (they
see the abort at once unless a connect is still under way; such a sender sends nothing)."""
PUT_OFF_AFTER = 1.0
"""An endpoint holds at most this many seconds' worth of deliveries (by how fast it
answers, ``concurrency`` at a time; ``concurrency`` deliveries at least): the others taken
for it are put off, no attempt counted, and the worker's room goes to other endpoints."""
MAX_PUT_OFF = 60.0
"""Seconds a delivery is put off at most (at least 1)."""

_Key = tuple[str, str]
_LEASE_ENDED = LEASE_ENDED
"""A result's status for a delivery not sent because its lease ran out (nothing to settle)."""
_ABORTED = ABORTED
"""A result's status for a delivery whose request ``stop()`` aborted (or never started):
not an attempt, put back due at once."""
_Result = tuple[Record, Record | None]
_Job = tuple[Record, dict[str, bytes] | None]
"""A delivery to make, and the events read for its batch, as JSON (None: not read, a
sender reads its own)."""


class DeliveryWorker:
    """Delivers a service's events to its webhook endpoints until stopped.

    Made by ``svc.webhooks.start_delivery(**options)``; the options:

    - ``retry``: the ``RetryPolicy`` (default: 1 minute doubling up to 6 hours, given up
      after 3 days);
    - ``timeout``: seconds to connect and to wait for an answer (default 10);
    - ``concurrency``: requests in flight at once to each endpoint (default 4): the sender
      process's threads (or this process's sender threads, which compete for the
      interpreter lock: docs/decisions.md), more of them while several endpoints have
      requests waiting (``MAX_SENDERS`` in all). An endpoint that falls behind (answers
      slowly, or not at all) holds at most ``PUT_OFF_AFTER`` seconds' worth of deliveries;
      the others taken for it are put off (no attempt counted), so it never holds up the
      deliveries to the other endpoints;
    - ``batch_size``: deliveries taken from the store at once, and in flight at most
      (default 100);
    - ``poll_interval``: seconds between looks for deliveries written by other processes
      (default 1);
    - ``linger``: seconds a busy worker lets results and new deliveries gather between two
      store rounds (default 0.01): one transaction settles and takes many;
    - ``lease``: seconds a taken delivery is kept from other workers (default
      ``timeout`` + 30, and more than ``timeout``), after which a delivery whose worker
      died is due again; a live worker renews its leases well before they end;
    - ``retention``: attempts and given-up deliveries older than this are purged
      (default 30 days, as events);
    - ``cpu_share``: the share of one core the worker's threads may use (their CPU time,
      measured; they pause when they are over), or None for no limit. The default,
      ``IN_PROCESS_CPU_SHARE``, is for a worker in the API's own process, where every
      moment it runs Python the API waits for the interpreter lock; a worker in a process
      of its own (``customer-core deliver``) has no limit. While the rest of the process
      works, the share is of the cores it got (a loaded machine gives the API less than
      one); while it is idle (no API request running) the worker may use
      ``IDLE_CPU_SHARE`` of a core instead;
    - ``sender_process``: make the requests in a helper process of ``concurrency``
      threads (default True; customer_core.events.sender): this process's threads only
      read, sign and settle, so a worker in the API's process takes far less of its
      interpreter lock per delivery. False: sender threads in this process (what
      ``customer-core deliver``, a process of its own, uses); they also take over if the
      helper cannot start or dies (its unanswered requests are sent again: at least once);
    - ``busy_rate``: deliveries a second the worker takes at most while the API is busy,
      or None for no such limit; default ``IN_PROCESS_BUSY_RATE``. With a ``cpu_share``
      the budget tells busy from idle (the rest of the process works); without one (a
      delivery process), deliveries that keep arriving in the store do
      (``Store.outbox_arrivals``: ``BUSY_ARRIVALS`` a second or more), on a store that
      can tell (PostgreSQL; elsewhere such a worker is not paced). Deliveries past it
      wait for the API's idle moments (or the next second), none is dropped.

    ``stop(timeout=2)`` (or leaving a ``with`` block) first sends what was due when it was
    called, for at most ``timeout`` seconds, recording the answers as usual; then it aborts
    the requests still in flight and puts their deliveries, and those not sent yet, back
    due at once, without counting an attempt (the receiver did nothing wrong): nothing
    pending is lost, and the next worker (after a restart too) delivers it.
    """

    def __init__(
        self,
        webhooks: Webhooks,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        concurrency: int = 4,
        batch_size: int = 100,
        poll_interval: float = 1.0,
        linger: float = 0.01,
        lease: float | None = None,
        retention: float = DEFAULT_RETENTION,
        cpu_share: float | None = IN_PROCESS_CPU_SHARE,
        sender_process: bool = True,
        busy_rate: float | None = IN_PROCESS_BUSY_RATE,
    ) -> None:
        check_worker_settings(
            retry=retry,
            timeout=timeout,
            concurrency=concurrency,
            batch_size=batch_size,
            poll_interval=poll_interval,
            linger=linger,
            lease=lease,
            retention=retention,
            cpu_share=cpu_share,
            sender_process=sender_process,
            busy_rate=busy_rate,
        )
        self._webhooks = webhooks
        self._store = webhooks.store
        self._clock = webhooks.clock
        self.retry = RetryPolicy() if retry is None else retry
        self.timeout = timeout
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.linger = linger
        self.lease = timeout + 30 if lease is None else lease
        self.retention = retention
        self.sender_process = sender_process
        self._budget = (
            None
            if cpu_share is None
            else _CpuBudget(cpu_share, idle_share=max(cpu_share, IDLE_CPU_SHARE))
        )
        self._arrivals = (
            _Arrivals.of(self._store) if self._budget is None and busy_rate is not None else None
        )
        self._pace = (
            None
            if busy_rate is None or (self._budget is None and self._arrivals is None)
            # A round lasts its linger at least: a long one saves as many chunks as
            # rounds four lingers long need to keep the rate (a delivery process at
            # nice 19 beside a busy API waits for the cores).
            else _Pace(busy_rate, saved=max(2 * PACE_WINDOW, 4 * self.linger))
        )
        self._paused_for_pace = 0.0
        self._room_left = False
        """Whether the last round could have taken more than was due: only then does a
        delivery written by this process wake the dispatcher (not at every write while
        it works through a backlog)."""
        self._listening = False
        self._endpoints = EndpointCache(webhooks)
        self._ids = IdGenerator(self._clock)
        self._random = random.Random()
        self._wake = threading.Event()
        self._enqueued = True  # look at once when started
        self._stopping = False
        self._stop_requested = threading.Event()
        self._aborted = threading.Event()
        self._stop_due = 0.0
        self._sender_connections: list[Connections] = []
        self._jobs: Lanes[_Job] = Lanes(concurrency)
        self._threads_on = False
        self._results: list[_Result] = []
        self._results_lock = threading.Lock()
        self._in_flight: dict[_Key, Record] = {}
        self._load = _EndpointLoad(concurrency)
        self._put_off_until: dict[str, float] = {}
        """When the deliveries last taken back from each endpoint's queue are due again."""
        self._threads: list[threading.Thread] = []
        self._sender: SenderProcess | None = None
        self._sender_lock = threading.Lock()
        self._handed: dict[_Key, tuple[Record, Record]] = {}
        """Deliveries handed to the sender process, not answered yet, with their endpoint."""
        self._endpoints_handed: dict[str, tuple[str, str]] = {}
        """The (url, secret) of each endpoint as the sender process was given it."""
        self._dispatcher: threading.Thread | None = None
        self._remove_listener: Any = None
        self._last_purge = -float("inf")
        self._drain_timeout = STOP_TIMEOUT

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def sender_pid(self) -> int | None:
        """The sender process's id while it sends, None when threads of this process do."""
        sender = self._sender
        return None if sender is None else sender.pid

    @property
    def running(self) -> bool:
        """Whether the worker is delivering (started and not stopped)."""
        return self._dispatcher is not None and self._dispatcher.is_alive()

    def start(self) -> DeliveryWorker:
        """Start the dispatcher, and the sender process (or threads); return self."""
        if self._dispatcher is not None:
            raise RuntimeError("This DeliveryWorker was started already.")
        self._remove_listener = self._webhooks.add_listener(self._on_enqueue)
        if self.sender_process:
            sender = SenderProcess(
                self.concurrency,
                self.timeout,
                self._on_outcomes,
                self._on_sender_exit,
                gather=self.linger,
            )
            try:
                self._sender = sender.start()
            except OSError as error:
                logger.warning(
                    "webhook delivery: no sender process (%s); sending from threads", error
                )
        if self._sender is None:
            with self._sender_lock:
                self._start_threads()
        self._dispatcher = threading.Thread(
            target=self._dispatch_loop, name="customer_core webhook dispatcher", daemon=True
        )
        self._dispatcher.start()
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop delivering, within about ``timeout`` seconds: send what is due now (the
        requests in flight, and deliveries due in the store), recording the answers, until
        none is left or ``timeout`` ends; then abort the requests still in flight and put
        their deliveries, with those not sent, back due at once, no attempt counted.
        ``timeout=0`` sends nothing more. Call it before closing the store."""
        if self._dispatcher is None or self._stopping:
            return
        if not timeout >= 0:
            raise ValueError("DeliveryWorker.stop needs a timeout >= 0.")
        self._drain_timeout = timeout
        self._stop_due = self._clock()
        self._stopping = True
        self._stop_requested.set()
        self._wake.set()
        self._dispatcher.join()
        if self._remove_listener is not None:
            self._remove_listener()
        self._abort_senders()  # the dispatcher did, unless the store closed under it

    def __enter__(self) -> DeliveryWorker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def wake(self) -> None:
        """Look for due deliveries at once: deliveries were written (by this process, or
        by another that says so, as ``customer-core serve`` tells its delivery process).
        A dispatcher that is working claims them in its next round without being woken."""
        self._enqueued = True
        if self._listening:
            self._wake.set()

    def _on_enqueue(self) -> None:
        # Runs inside the writer's transaction: the claim that follows waits for its commit.
        self.wake()

    # --- the dispatcher ------------------------------------------------------------------

    def _dispatch_loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            began = time.thread_time()
            try:
                worked, wait = self._dispatch_once()
            except StoreClosedError:
                logger.warning("webhook delivery stops: the store was closed before the worker")
                self._abort_senders()
                return
            except StoreError as error:  # an outage (a database down, a lock held): one line
                logger.warning(
                    "webhook delivery: the store failed; trying again shortly: %s", error.message
                )
                worked, wait = False, self.poll_interval
            except Exception:
                logger.exception("webhook delivery: the store failed; trying again shortly")
                worked, wait = False, self.poll_interval
            pause = self._spend(began)
            if worked and self.linger:
                # Let results and new deliveries gather: one store round settles and
                # claims many (a round is a transaction, an fsync on a durable store).
                pause = max(pause, self.linger)
            pause = max(pause, self._paused_for_pace)
            if pause:
                self._stop_requested.wait(pause)
            if wait > 0:
                # Set before _enqueued is read, as wake() sets _enqueued before it reads
                # this: a delivery written meanwhile is seen by one side or the other.
                self._listening = self._room_left
                if not (self._listening and self._enqueued):
                    self._wake.wait(wait)
                self._listening = False
        self._shut_down()

    def _dispatch_once(self) -> tuple[bool, float]:
        """One store round: settle finished attempts and take due deliveries, in one
        transaction; return whether it did anything, and how long to wait for more."""
        self._recall_excess()
        results = self._take_results()
        now = self._clock()
        if now - self._last_purge > PURGE_EVERY:
            removed = self._store.outbox_purge(before=now - self.retention, limit=PURGE_LIMIT)
            # A full bite leaves more: the next round purges again (a backlog goes in bites).
            self._last_purge = -float("inf") if removed >= PURGE_LIMIT else now
        room = self.batch_size - len(self._in_flight)
        paced = False
        self._paused_for_pace = 0.0
        if self._pace is not None and room > 0 and self._api_busy():
            allowance = self._pace.allowance()
            paced = allowance < room
            room = min(room, allowance)
        self._room_left = room > 0
        renew = self._ending_leases(now)
        if room <= 0 and not results and not renew:
            if paced and self._pace is not None:
                self._paused_for_pace = self._pace.wait()  # until it may take more
                return False, 0.0
            return False, self.poll_interval  # a finishing attempt wakes us
        claim = False
        if room > 0:
            claim, self._enqueued = self._enqueued, False
        if room > 0 and not claim and not results and not renew:
            # Idle: a read, no transaction, unless something is due.
            next_due = self._store.outbox_next_due()
            claim = next_due is not None and next_due <= now
            if not claim:
                return False, self._wait_for(next_due)
        claimed: list[Record] = []
        # A transaction block: a claim after a wake waits for the writer's commit.
        with self._store.transaction():
            if results:
                self._settle(results)
            if renew:
                self._renew(renew)
            if claim:
                now = self._clock()
                claimed = self._store.outbox_claim(now, now + self.lease, room)
            next_due = self._store.outbox_next_due()
        if self._pace is not None:
            self._pace.take(len(claimed))
            if paced:
                self._paused_for_pace = self._pace.wait()
        self._queue(claimed)
        if paced:
            return True, 0.0
        if claim and len(claimed) == room:
            return True, 0.0  # more may be due
        return True, self._wait_for(next_due) if room > 0 else self.poll_interval

    def _api_busy(self) -> bool:
        """Whether the API is busy, so the pace applies: the rest of this process works
        (an in-process worker's budget says), or deliveries keep arriving in the store."""
        if self._budget is not None:
            return self._budget.busy
        return self._arrivals is not None and self._arrivals.busy()

    def _queue(self, claimed: list[Record]) -> None:
        """Hand claimed deliveries to the senders, with their events read in one store call
        (on PostgreSQL one query for the batch instead of a round trip a delivery)."""
        new: list[Record] = []
        put_off: list[_Result] = []
        rooms: dict[str, int] = {}
        moment = time.monotonic()
        for delivery in claimed:
            endpoint_id = delivery["endpoint"]
            key = delivery["event"], endpoint_id
            held = self._in_flight.get(key)
            if held is not None:
                # Ours already (its lease ran out while it waited): one send, the new lease.
                held["next_attempt"] = delivery["next_attempt"]
                self._renew_handed([held])
                continue
            room = rooms.get(endpoint_id)
            if room is None:
                room = self._load.room(endpoint_id, moment)
            if room <= 0 and self._webhooks.endpoint_count() > 1:
                # Its endpoint is behind (slow, or not answering): due again when it may
                # have caught up, so the worker's room goes to the other endpoints.
                due = self._clock() + self._load.put_off(endpoint_id, moment)
                put_off.append(({**delivery, "next_attempt": due}, None))
                rooms[endpoint_id] = 0
                continue
            rooms[endpoint_id] = room - 1
            self._in_flight[key] = delivery
            self._load.hold(endpoint_id, moment)
            new.append(delivery)
        if put_off:
            with self._results_lock:
                self._results.extend(put_off)  # settled (saved) in the next round
        if not new:
            return
        events: dict[str, bytes] | None
        try:
            events = self._store.event_json_many({delivery["event"] for delivery in new})
        except Exception:
            logger.exception("webhook delivery: could not read a batch's events; reading each")
            events = None
        if self._sender is None or not self._hand_over(new, events):
            for delivery in new:
                self._put_job(delivery, events)

    def _hand_over(self, deliveries: list[Record], events: dict[str, bytes] | None) -> bool:
        """Hand ``deliveries`` to the sender process in one message, each with its event's
        JSON (the sender pretty-prints and signs it) and, once per endpoint, the endpoint's
        URL and secret; those with nothing to send are results at once. False: there is no
        sender process (any more), nothing was done."""
        results: list[_Result] = []
        jobs: list[EventJob] = []
        endpoints: Endpoints = {}
        wall, monotonic = self._clock(), time.monotonic()
        timestamp = int(wall)
        with self._sender_lock:
            sender = self._sender
            if sender is None:
                return False
            # The batch's checks made once (the clock read, each endpoint looked up): what
            # _prepare does a delivery, which costs the API's interpreter lock a batch over.
            prepared_at = _PreparedAt(self, wall, events)
            handed, handed_endpoints = self._handed, self._endpoints_handed
            for delivery in deliveries:
                try:
                    prepared = prepared_at.request(delivery)
                except Exception:
                    results.append(self._failed_unexpectedly(delivery))
                    continue
                if isinstance(prepared, _Request):
                    endpoint = prepared.endpoint
                    endpoint_id = delivery["endpoint"]
                    destination = endpoint["url"], endpoint["secret"]
                    if handed_endpoints.get(endpoint_id) != destination:
                        endpoints[endpoint_id] = handed_endpoints[endpoint_id] = destination
                    key = delivery["event"], endpoint_id
                    handed[key] = delivery, endpoint
                    lease_end = monotonic + delivery["next_attempt"] - wall
                    jobs.append((key, endpoint_id, prepared.document, timestamp, lease_end))
                else:
                    results.append(prepared)
        if results:
            with self._results_lock:
                self._results.extend(results)
        if jobs:
            try:
                sender.send_events(endpoints, jobs)
            except OSError:
                pass  # it died: _on_sender_exit gives what it held to threads
        return True

    def _renew_handed(self, deliveries: list[Record]) -> None:
        """Tell the sender process the new lease ends of ``deliveries`` it holds unsent."""
        sender = self._sender
        if sender is None:
            return
        wall, monotonic = self._clock(), time.monotonic()
        with self._sender_lock:
            leases = [
                (key, monotonic + d["next_attempt"] - wall)
                for d in deliveries
                if (key := (d["event"], d["endpoint"])) in self._handed
            ]
        if leases:
            try:
                sender.renew(leases)
            except OSError:
                pass  # it died: _on_sender_exit gives what it held to threads

    def _on_outcomes(self, outcomes: list[Outcome]) -> None:
        """What the sender process says came of requests it was handed: the results."""
        began = time.thread_time()
        results: list[_Result] = []
        with self._sender_lock:  # once a batch, not once an outcome
            pop = self._handed.pop
            answered = [(pop(outcome[0], None), outcome) for outcome in outcomes]
        now = self._clock()
        for handed, (_, kind, status_code, error, duration_ms) in answered:
            if handed is None:
                continue
            delivery, endpoint = handed
            if kind == RECALLED:
                due = self._put_off_until.get(delivery["endpoint"], now)
                results.append(({**delivery, "next_attempt": due}, None))
                continue
            if kind != SENT:
                results.append(({**delivery, "status": kind}, None))
                continue
            try:
                results.append(
                    self._finish(delivery, endpoint, status_code, error, duration_ms, now)
                )
            except Exception:
                results.append(self._failed_unexpectedly(delivery))
        self._report(results, began)

    def _report(self, results: list[_Result], began: float) -> None:
        """Hand ``results`` to the dispatcher; then charge this thread's CPU since
        ``began`` to the budget, pausing if it is over."""
        pause = self._spend(began)  # charged first: a look at the API while woken sees it
        with self._results_lock:
            self._results.extend(results)
        self._wake.set()
        if pause:
            self._aborted.wait(pause)

    def _on_sender_exit(self) -> None:
        """The sender process ended: unless this worker stopped it, threads of this process
        send from now on, starting with what it held unanswered (it may have sent some:
        at least once)."""
        with self._sender_lock:
            if self._sender is None:
                return  # stopped by _abort_senders: what it held is put back there
            self._sender = None
            orphans = [delivery for delivery, _ in self._handed.values()]
            self._handed.clear()
            logger.warning(
                "webhook delivery: the sender process ended; sending from threads of this process"
            )
            self._start_threads()
        for delivery in orphans:
            self._put_job(delivery, None)
        self._wake.set()

    def _recall_excess(self) -> None:
        """Take back, from the queues of endpoints that fell behind (slow, or silent), the
        deliveries beyond what they may hold (``PUT_OFF_AFTER``), and put them off, so that
        the worker's room (``batch_size``) goes to the other endpoints. At most once a
        ``PUT_OFF_AFTER`` for each endpoint (what comes back from a sender process comes a
        moment later)."""
        moment = time.monotonic()
        behind = self._load.behind(moment)
        if not behind or self._webhooks.endpoint_count() < 2:
            return  # (no other endpoint to make room for)
        now = self._clock()
        recalls: list[tuple[str, int]] = []
        for endpoint_id, excess in behind:
            self._put_off_until[endpoint_id] = now + self._load.put_off(endpoint_id, moment)
            recalls.append((endpoint_id, excess))
        sender = self._sender
        if sender is not None:
            try:
                sender.recall(recalls)
            except OSError:
                pass  # it died: _on_sender_exit gives what it held to threads
            return
        put_off = [
            ({**delivery, "next_attempt": self._put_off_until[endpoint_id]}, None)
            for endpoint_id, excess in recalls
            for delivery, _ in self._jobs.take(endpoint_id, excess)
        ]
        if put_off:
            with self._results_lock:
                self._results.extend(put_off)

    def _ending_leases(self, now: float) -> list[Record]:
        """The deliveries held whose lease is past half its margin over the timeout (a
        sender needs ``timeout`` seconds of lease left to start a request)."""
        if not self._in_flight:
            return []
        renew_before = now + self.timeout + (self.lease - self.timeout) / 2
        return [d for d in self._in_flight.values() if d["next_attempt"] < renew_before]

    def _renew(self, deliveries: list[Record]) -> None:
        """Lease ``deliveries`` anew, in the round's transaction; one whose lease has ended
        may be another worker's by now and is left alone (its sender will not send it)."""
        now = self._clock()
        lease_until = now + self.lease
        renewed = [
            {**d, "next_attempt": lease_until} for d in deliveries if d["next_attempt"] > now
        ]
        if renewed:
            self._store.outbox_settle(renewed, [])
        for delivery in renewed:
            held = self._in_flight.get((delivery["event"], delivery["endpoint"]))
            if held is not None:
                held["next_attempt"] = lease_until
        self._renew_handed(renewed)

    def _wait_for(self, next_due: float | None) -> float:
        if next_due is None:
            return self.poll_interval
        return max(0.0, min(self.poll_interval, next_due - self._clock()))

    def _take_results(self) -> list[_Result]:
        with self._results_lock:
            results, self._results = self._results, []
        moment = time.monotonic()
        for delivery, attempt in results:
            # An aborted one stays held, to be put back.
            if delivery["status"] != _ABORTED and self._in_flight.pop(
                (delivery["event"], delivery["endpoint"]), None
            ):
                self._load.release(delivery["endpoint"], attempt, moment)
        return results

    def _settle(self, results: list[_Result]) -> None:
        self._store.outbox_settle(
            [d for d, _ in results if d["status"] != _LEASE_ENDED and d["status"] != _ABORTED],
            [attempt for _, attempt in results if attempt is not None],
        )

    def _settle_finished(self) -> None:
        results = self._take_results()
        if results:
            self._settle(results)

    def _shut_down(self) -> None:
        """Send what was due at the stop (bounded), abort the rest, record what was
        answered, put the others back."""
        try:
            self._drain(time.monotonic() + self._drain_timeout)
        except StoreClosedError:  # the caller's mistake, not a failure: one line, no traceback
            self._abort_senders()
            self._in_flight.clear()
            logger.warning(
                "webhook delivery: the store was closed before the worker stopped; the "
                "deliveries in flight are due again when their lease ends"
            )
            return
        except Exception:
            logger.exception("webhook delivery: the store failed while the worker stopped")
        self._abort_senders()
        try:
            self._settle_finished()
            if self._in_flight:
                now = self._clock()
                # A delivery whose lease ended may be another worker's: not ours to put back.
                unanswered = [
                    {**delivery, "next_attempt": now}
                    for delivery in self._in_flight.values()
                    if delivery["next_attempt"] > now
                ]
                self._in_flight.clear()
                self._store.outbox_settle(unanswered, [])
        except Exception:
            logger.exception(
                "webhook delivery: could not record the last attempts; their deliveries are "
                "due again when their lease ends"
            )

    def _drain(self, deadline: float) -> None:
        """Until ``deadline`` (``time.monotonic``): settle finished attempts and take the
        deliveries that were due when ``stop()`` was called, until none is left."""
        more_due = time.monotonic() < deadline
        while True:
            results = self._take_results()
            room = self.batch_size - len(self._in_flight)
            claimed: list[Record] = []
            with self._store.transaction():
                if results:
                    self._settle(results)
                renew = self._ending_leases(self._clock())
                if renew:
                    self._renew(renew)
                if more_due and room > 0:
                    claimed = self._store.outbox_claim(
                        self._stop_due, self._clock() + self.lease, room
                    )
                    more_due = len(claimed) == room
            self._queue(claimed)
            remaining = deadline - time.monotonic()
            if (not self._in_flight and not more_due) or remaining <= 0:
                return
            self._wake.wait(min(remaining, self.poll_interval))
            self._wake.clear()

    def _abort_senders(self) -> None:
        """Abort the requests in flight (their sockets are shut, so an answer awaited ends
        at once), drop the deliveries not started, end the sender process or threads."""
        with self._sender_lock:
            if self._aborted.is_set():
                return
            self._aborted.set()
            sender, self._sender = self._sender, None
        deadline = time.monotonic() + ABORT_WAIT
        if sender is not None:
            sender.abort()
            # Its answers (sent, or aborted) come back in a moment; one not back in time
            # stays held and is put back.
            while self._handed and time.monotonic() < deadline:
                time.sleep(0.005)
            sender.close(wait=max(0.0, deadline - time.monotonic()))
            with self._sender_lock:
                self._handed.clear()
        for connections in self._sender_connections:
            for connection in list(connections.values()):
                connection.abort()
        self._jobs.clear()  # still held in _in_flight: put back
        self._jobs.close()
        with self._sender_lock:
            threads = self._threads[:]
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    # --- the senders ---------------------------------------------------------------------

    def _start_threads(self) -> None:
        """Send from threads of this process from now on (holding ``_sender_lock``): they
        start as requests wait, ``concurrency`` at most for each endpoint."""
        if not self._aborted.is_set():
            self._threads_on = True

    def _put_job(self, delivery: Record, events: dict[str, bytes] | None) -> None:
        """Queue ``delivery`` for the sender threads, starting one more if its endpoint's
        lane could use it (another endpoint's may hold every thread, waiting for answers)."""
        wanted = self._jobs.put(delivery["endpoint"], (delivery, events))
        with self._sender_lock:
            threads = self._threads
            if self._threads_on and wanted > len(threads) < max(self.concurrency, MAX_SENDERS):
                thread = threading.Thread(
                    target=self._send_loop,
                    name=f"customer_core webhook sender {len(threads)}",
                    daemon=True,
                )
                threads.append(thread)
                thread.start()

    def _send_loop(self) -> None:
        connections: Connections = {}
        self._sender_connections.append(connections)
        try:
            while (taken := self._jobs.get()) is not None:
                endpoint_id, (delivery, events) = taken
                began = time.thread_time()
                try:
                    result = self._attempt(delivery, connections, events)
                except Exception:
                    result = self._failed_unexpectedly(delivery)
                self._jobs.done(endpoint_id)
                self._report([result], began)
        finally:
            for connection in connections.values():
                connection.close()

    def _spend(self, began: float) -> float:
        """Charge the CPU this thread used since ``began`` (``time.thread_time``) to the
        budget; return how long to pause to stay within it."""
        return 0.0 if self._budget is None else self._budget.spend(time.thread_time() - began)

    def _failed_unexpectedly(self, delivery: Record) -> _Result:
        """The result of an attempt that raised (called in its ``except``): put back if the
        stop cut it short (its store may be closed); put off a moment, no attempt counted,
        if the store failed before the request (its endpoint looked up during an outage:
        nothing was sent); else logged and retried on the schedule."""
        if self._aborted.is_set():
            return {**delivery, "status": _ABORTED}, None
        error = sys.exc_info()[1]
        if isinstance(error, StoreError):
            logger.warning(
                "webhook delivery of %s to %s waits: the store failed before its request; "
                "trying again shortly: %s",
                delivery["event"],
                delivery["endpoint"],
                error.message,
            )
            return {**delivery, "next_attempt": self._clock() + self.poll_interval}, None
        logger.exception(
            "webhook delivery of %s to %s failed unexpectedly",
            delivery["event"],
            delivery["endpoint"],
        )
        return self.retry.after_failure(delivery, self._clock(), self._random), None

    def _attempt(
        self,
        delivery: Record,
        connections: Connections,
        events: dict[str, bytes] | None = None,
    ) -> _Result:
        """Make one attempt: the delivery as it stands after it, and the attempt's record
        (None when there was nothing to send any more). ``events``: its batch's events as
        read (JSON), or None to read its own."""
        prepared = self._prepare(delivery, events)
        if not isinstance(prepared, _Request):
            return prepared
        endpoint = prepared.endpoint
        started = time.perf_counter()
        payload, header = signed_body(prepared.document, endpoint["secret"], int(self._clock()))
        status_code, error = post(
            endpoint["url"], payload, header, self.timeout, connections, self._aborted
        )
        duration_ms = round((time.perf_counter() - started) * 1000)
        return self._finish(delivery, prepared.endpoint, status_code, error, duration_ms)

    def _prepare(self, delivery: Record, events: dict[str, bytes] | None) -> _Result | _Request:
        """The request to make for ``delivery``, or its result if there is none to make
        (the stop came, its lease is ending, its endpoint or event is gone)."""
        return _PreparedAt(self, self._clock(), events).request(delivery)

    def _finish(
        self,
        delivery: Record,
        endpoint: Record,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        now: float | None = None,
    ) -> _Result:
        """The delivery after a request that got ``status_code`` (or ``error``), and the
        attempt's record; ``now``: the clock's time, if the caller read it (for a batch)."""
        if status_code is None and self._aborted.is_set():
            # Cut short by stop() (or never sent): not the receiver's failure.
            return {**delivery, "status": _ABORTED}, None
        if now is None:
            now = self._clock()
        succeeded = status_code is not None and 200 <= status_code < 300
        if succeeded:
            after = {**delivery, "attempts": delivery["attempts"] + 1, "status": "succeeded"}
        else:
            after = self.retry.after_failure(delivery, now, self._random)
            if error is None:
                error = f"HTTP {status_code}"
            logger.warning(
                "webhook delivery of %s to %s failed (attempt %d): %s; %s",
                delivery["event"],
                delivery["endpoint"],
                after["attempts"],
                error,
                "given up"
                if after["status"] == "failed"
                else f"next attempt in {after['next_attempt'] - now:.3g} s",
            )
        attempt = {
            "id": self._ids.delivery_attempt_id(),
            "object": "webhook_delivery_attempt",
            "created": int(now),
            "endpoint": delivery["endpoint"],
            "event": delivery["event"],
            "attempt": after["attempts"],
            "url": masked_url(endpoint["url"]),
            "status_code": status_code,
            "error": error,
            "duration_ms": duration_ms,
            "succeeded": succeeded,
            "next_attempt": int(after["next_attempt"]) if after["status"] == "pending" else None,
        }
        return after, attempt


class _PreparedAt:
    """What to send for deliveries handed over at one moment: the stop, the clock and each
    endpoint looked at once for a whole batch, not once a delivery (the API's interpreter
    lock pays for each look)."""

    __slots__ = ("_aborted", "_deadline", "_endpoints", "_events", "_worker")

    def __init__(self, worker: DeliveryWorker, now: float, events: dict[str, bytes] | None) -> None:
        self._worker = worker
        self._aborted = worker._aborted.is_set()
        self._deadline = now + worker.timeout
        self._events = events
        self._endpoints: dict[str, Record | None] = {}

    def request(self, delivery: Record) -> _Result | _Request:
        """The request to make for ``delivery``, or its result if there is none to make
        (the stop came, its lease is ending, its endpoint or event is gone)."""
        if self._aborted:
            return {**delivery, "status": _ABORTED}, None
        if self._deadline >= delivery["next_attempt"]:
            # The lease may end before an answer could come: the delivery may be another
            # worker's by then. Not sent, not settled: due again when the lease ends.
            return {**delivery, "status": _LEASE_ENDED}, None
        endpoint_id = delivery["endpoint"]
        if endpoint_id in self._endpoints:
            endpoint = self._endpoints[endpoint_id]
        else:
            endpoint = self._endpoints[endpoint_id] = self._worker._endpoints.get(endpoint_id)
        event_id = delivery["event"]
        events = self._events
        if events is None:
            events = self._worker._store.event_json_many((event_id,))
        document = events.get(event_id)
        if endpoint is None or document is None or endpoint["status"] != "enabled":
            # The endpoint was deleted or disabled, or the event purged: nothing to send.
            return {**delivery, "status": "canceled"}, None
        return _Request(endpoint, document)


class _Request(NamedTuple):
    """A request to make for a delivery: its endpoint, and its event's compact JSON (the
    sender pretty-prints and signs it)."""

    endpoint: Record
    document: bytes


class EndpointCache:
    """The enabled webhook endpoints a worker sends to, read from the store once per
    ``refresh`` seconds instead of once a delivery (a read, on PostgreSQL a round trip,
    a good part of a delivery's cost).

    A change made through this process's service (``Webhooks.endpoints_changed``) is seen
    at once; one made by another process (or host) within ``refresh`` seconds: until
    then an endpoint disabled or deleted there may still get deliveries, and a changed
    URL the old one. An endpoint not found or not enabled is never taken from the cache:
    a delivery is canceled only on what the store says now."""

    def __init__(
        self,
        webhooks: Webhooks,
        refresh: float = DEFAULT_ENDPOINT_REFRESH,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._webhooks = webhooks
        self._store = webhooks.store
        self._refresh = refresh
        self._clock = clock
        self._records: dict[str, Record] = {}
        self._loaded_at = -math.inf
        self._changes = webhooks.endpoint_changes

    def get(self, endpoint_id: str) -> Record | None:
        """The endpoint with that id as recently read, or None if it does not exist."""
        now = self._clock()
        changes = self._webhooks.endpoint_changes
        if changes != self._changes or now - self._loaded_at > self._refresh:
            self._records = {}
            self._loaded_at, self._changes = now, changes
        record = self._records.get(endpoint_id)
        if record is None:
            record = self._store.webhook_endpoint_get(endpoint_id)
            if record is not None and record["status"] == "enabled":
                self._records[endpoint_id] = record
        return record


class _EndpointLoad:
    """The deliveries this worker holds for each endpoint, and how fast it answers: how
    many more it may take before they would wait more than ``PUT_OFF_AFTER`` seconds."""

    def __init__(self, concurrency: int) -> None:
        self._concurrency = concurrency
        self._held: dict[str, int] = {}
        self._since: dict[str, float] = {}
        """When the endpoint last answered, or began to be held for (``time.monotonic``)."""
        self._seconds: dict[str, float] = {}
        """Its answers' time (a moving average), once it answered."""
        self._told: dict[str, float] = {}
        """When ``behind`` last named it."""

    def hold(self, endpoint_id: str, now: float) -> None:
        held = self._held.get(endpoint_id, 0)
        if not held:
            self._since[endpoint_id] = now
        self._held[endpoint_id] = held + 1

    def release(self, endpoint_id: str, attempt: Record | None, now: float) -> None:
        """One of its deliveries came back: answered if ``attempt`` (the attempt's record)."""
        held = self._held.get(endpoint_id, 0) - 1
        if held > 0:
            self._held[endpoint_id] = held
        else:
            self._held.pop(endpoint_id, None)
        if attempt is not None:
            seconds = attempt["duration_ms"] / 1000
            average = self._seconds.get(endpoint_id)
            self._seconds[endpoint_id] = (
                seconds if average is None else average + (seconds - average) / 5
            )
            self._since[endpoint_id] = now

    def _wait(self, endpoint_id: str, now: float) -> tuple[int, float]:
        """Its deliveries held, and the seconds an answer takes: as it answered, or as long
        as it has been silent while held for, if that is longer than ``PUT_OFF_AFTER``
        (answers come back in batches: a shorter silence says nothing)."""
        held = self._held.get(endpoint_id, 0)
        seconds = self._seconds.get(endpoint_id, 0.0)
        if held:
            silent = now - self._since[endpoint_id]
            if silent > PUT_OFF_AFTER:
                seconds = max(seconds, silent)
        return held, seconds

    def room(self, endpoint_id: str, now: float) -> int:
        """How many more deliveries the endpoint may hold now."""
        held, seconds = self._wait(endpoint_id, now)
        if not seconds:
            return 1 << 30  # answers at once (or never asked yet)
        return max(self._concurrency, int(self._concurrency * PUT_OFF_AFTER / seconds)) - held

    def behind(self, now: float) -> list[tuple[str, int]]:
        """The endpoints holding more than they may (beyond ``concurrency``), with how many
        more, each reported once a ``PUT_OFF_AFTER`` at most."""
        behind = []
        for endpoint_id, held in self._held.items():
            if held > self._concurrency and now - self._told.get(endpoint_id, -math.inf) >= (
                PUT_OFF_AFTER
            ):
                room = self.room(endpoint_id, now)
                if room < 0:
                    self._told[endpoint_id] = now
                    behind.append((endpoint_id, -room))
        return behind

    def put_off(self, endpoint_id: str, now: float) -> float:
        """Seconds to put off a delivery the endpoint has no room for: until it may have
        answered those it holds (1 to ``MAX_PUT_OFF``)."""
        held, seconds = self._wait(endpoint_id, now)
        return min(MAX_PUT_OFF, max(1.0, held / self._concurrency * seconds))


class _Pace:
    """How many deliveries a worker may take while its process is busy: ``rate`` a second,
    in chunks of ``window`` seconds' worth (none until a whole chunk has built up, so a
    paced worker makes one store round and one hand-over per chunk; up to ``saved``
    seconds' worth, two chunks at least, is saved, so a round that comes late still keeps
    the rate). ``clock`` is for tests."""

    def __init__(
        self,
        rate: float,
        window: float = PACE_WINDOW,
        *,
        saved: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._chunk = max(1.0, rate * window)
        self._saved = max(2 * self._chunk, rate * saved)
        self._tokens = self._chunk
        self._clock = clock
        self._at = clock()

    def allowance(self) -> int:
        """How many may be taken now: a chunk's worth, or 0 until one has built up."""
        now = self._clock()
        self._tokens = min(self._saved, self._tokens + (now - self._at) * self._rate)
        self._at = now
        tokens = self._tokens + 1e-9  # a chunk's worth of time gives a whole chunk
        return int(tokens) if tokens >= self._chunk else 0

    def take(self, count: int) -> None:
        """Count ``count`` deliveries taken (while idle too: a burst then is paid back)."""
        self._tokens = max(0.0, self._tokens - count)

    def wait(self) -> float:
        """Seconds until a whole chunk has built up."""
        return max(0.0, (self._chunk - self._tokens) / self._rate)


class _Arrivals:
    """Whether deliveries keep being added to the store (by its API, busy writing events):
    counted by the store (``Store.outbox_arrivals``) over windows of at least ``window``
    seconds, busy while the last one saw ``BUSY_ARRIVALS`` a second or more. What a
    delivery process, with no API of its own to watch, paces itself by. A failed count
    keeps the last answer. ``clock`` is for tests."""

    def __init__(
        self,
        store: Store,
        mark: str | None,
        window: float = ARRIVALS_WINDOW,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._mark = mark
        self._window = window
        self._clock = clock
        self._at = clock()
        self._busy = False

    @classmethod
    def of(cls, store: Store) -> _Arrivals | None:
        """The arrivals of ``store`` from now on, or None if it cannot count them."""
        try:
            first = store.outbox_arrivals(None)
        except StoreError:
            return cls(store, None)  # an outage: it may count later
        return None if first is None else cls(store, first[1])

    def busy(self) -> bool:
        now = self._clock()
        elapsed = now - self._at
        if elapsed < self._window - 1e-9:
            return self._busy
        try:
            counted = self._store.outbox_arrivals(self._mark)
        except StoreError:
            return self._busy
        self._at = now
        if counted is None:
            self._busy = False
        else:
            count, self._mark = counted
            self._busy = count >= BUSY_ARRIVALS * elapsed
        return self._busy


class _CpuBudget:
    """CPU seconds the worker's threads may use: ``share`` more every second of wall time,
    up to ``burst`` saved; a thread over the budget pauses until it is even again (a
    pause releases the interpreter lock, which is the point).

    With ``idle_share`` (an in-process worker), the rate follows the rest of the process
    (the API: the process's CPU minus what the worker charged), measured over windows of
    ``IDLE_WINDOW`` seconds. While the API is idle (it used less than ``API_IDLE`` of a
    core) the rate is ``idle_share``. While it works, the rate is ``share`` times the
    cores it got (at most one, at least ``BUSY_FLOOR``): on a loaded machine that gives
    the API half a core, the worker takes ``share`` of that half, not of a whole core, so
    what it costs the API stays about ``share`` of its rate whatever the machine's load.
    A busy API is seen within a window. ``clock`` and ``process_time`` are for tests."""

    def __init__(
        self,
        share: float,
        burst: float = 0.02,
        idle_share: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        process_time: Callable[[], float] = time.process_time,
    ) -> None:
        self._share = share
        self._idle_share = idle_share
        self._rate = share
        self._burst = burst
        self._balance = burst
        self._clock = clock
        self._process_time = process_time
        self._at = clock()
        self._lock = threading.Lock()
        self._window_began = self._at
        self._process_began = process_time()
        self._charged = 0.0
        self.busy = idle_share is None
        """Whether the rest of the process was busy over the last window (with an
        ``idle_share``: not until a window was measured; without one, always)."""

    def spend(self, seconds: float) -> float:
        with self._lock:
            now = self._clock()
            if self._idle_share is not None:
                self._charged += seconds
                elapsed = now - self._window_began
                if elapsed >= IDLE_WINDOW:
                    process = self._process_time()
                    api_cores = (process - self._process_began - self._charged) / elapsed
                    self.busy = api_cores >= API_IDLE
                    if not self.busy:
                        self._rate = self._idle_share
                    else:
                        self._rate = self._share * min(1.0, max(BUSY_FLOOR, api_cores))
                    self._window_began, self._process_began, self._charged = now, process, 0.0
            saved = self._balance + (now - self._at) * self._rate
            self._balance = min(self._burst, saved) - seconds
            self._at = now
            return 0.0 if self._balance >= 0 else min(1.0, -self._balance / self._rate)
