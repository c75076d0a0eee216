"""CustomerService: the one place where Stripe's customer semantics live.

It validates parameters, applies Stripe's defaults and update rules, turns cursors
into key ranges and words every error as Stripe does. Storage is whatever ``Store``
it is given; it never looks behind that port.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

from . import idempotency
from . import metadata as metadata_rules
from .errors import (
    CustomerCoreError,
    DuplicateKeyError,
    IdempotencyError,
    InvalidRequestError,
    RecordNotFoundError,
    invoice_prefix_in_use,
    no_such_customer,
)
from .events import (
    DEFAULT_RETENTION,
    Event,
    EventBus,
    EventListPage,
    EventLog,
    RequestInfo,
    Subscriber,
)
from .events.diff import changes, previous_attributes
from .events.outbox import DeliveryAttemptList, Webhooks
from .events.recording import EventParts
from .events.webhooks import (
    DeletedWebhookEndpoint,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookEndpoints,
)
from .expand import NOTHING, expansions, with_included
from .ids import Clock, IdGenerator, go_on_after, system_clock
from .models import (
    Customer,
    DeletedCustomer,
    ListPage,
    Record,
    SearchPage,
    canonical,
)
from .outcome import Outcome, request_info
from .pagination import created_range, cursor_range, page_key, page_token, trim_page
from .params import (
    CustomerCreateParams,
    CustomerListParams,
    CustomerRetrieveParams,
    CustomerSearchParams,
    CustomerUpdateParams,
    NoParams,
    param_dict,
    parse,
    path_id,
)
from .search import engine as search_engine
from .search import parse as parse_query
from .settings import check_flag, check_seconds, check_text
from .store.base import PURGE_LIMIT, Checkpoint, KeyRange, PreviousAttributes, Store
from .tax_ids import DeletedTaxId, TaxId, TaxIdList, TaxIdService

__all__ = ["OPERATIONS", "CustomerService", "Operation", "Outcome", "Result", "Snapshot"]

_Saved = TypeVar("_Saved", Customer, TaxId, WebhookEndpoint)
_Done = TypeVar("_Done")

# Plain fields an update copies as given (None clears a nullable one).
_COPIED_ON_UPDATE = (
    "balance",
    "description",
    "email",
    "name",
    "next_invoice_sequence",
    "phone",
    "tax_exempt",
)
_NAME_FIELDS = ("business_name", "individual_name")
_FIELD_POSITION = {name: position for position, name in enumerate(Customer.model_fields)}
"""Where each field of a customer goes in Stripe's order: an update's given fields, sorted
by it, are the keys its ``previous_attributes`` compares (in the customer's order)."""
_FIELD_NAMES = frozenset(_FIELD_POSITION)
"""The customer's fields: ``given & _FIELD_NAMES`` walks the few given names, where an
intersection with the dict walked all of its keys."""
_DIFFED_KEYS: dict[frozenset[str], tuple[str, ...]] = {}
"""The fields an update's diff compares, in the customer's order, by the set of params
given (a lookup: a third of sorting them each time); at most ``_DIFFED_KEYS_MAX`` sets."""
_DIFFED_KEYS_MAX = 1024


class _Required:
    """The default of a parameter Stripe requires: leaving it out is Stripe's
    ``Missing required param`` error, not Python's TypeError."""

    def __repr__(self) -> str:
        return "<required>"


_REQUIRED: Any = _Required()
_DEFAULT_SOURCE_PARAMS = (
    "default_alipay_account",
    "default_bank_account",
    "default_card",
    "default_source",
)

_MAX_INVOICE_PREFIX_ATTEMPTS = 32

TOTAL_COUNT_CAP = 10_000
"""Search's ``total_count`` counts matches up to this many (Stripe: "only accurate up to
10,000")."""


_EMPTY_ADDRESS = dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))
_EMPTY_RENDERING_OPTIONS = dict.fromkeys(("amount_tax_display", "template"))


def _address(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A given address replaces the whole address; sub-fields not given are null."""
    return None if params is None else {**_EMPTY_ADDRESS, **params}


def _shipping(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {
        "address": _address(params["address"]),
        "carrier": None,
        "name": params["name"],
        "phone": params.get("phone"),
        "tracking_number": None,
    }


def _invoice_settings(
    current: Mapping[str, Any], params: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Apply the invoice_settings sub-params that were given; the others stay."""
    settings = dict(current)
    if params:
        settings.update(params)
        if settings["rendering_options"] is not None and "rendering_options" in params:
            settings["rendering_options"] = {
                **_EMPTY_RENDERING_OPTIONS,
                **settings["rendering_options"],
            }
    return settings


_EMPTY_INVOICE_SETTINGS = {
    "custom_fields": None,
    "default_payment_method": None,
    "footer": None,
    "rendering_options": None,
}


# A stored record's fields with their defaults, in Stripe's key order.
_RECORD_DEFAULTS: Record = {
    name: field.default
    for name, field in Customer.model_fields.items()
    if name not in Customer.INCLUDABLE
}
_RECORD_DEFAULTS.update(invoice_settings=_EMPTY_INVOICE_SETTINGS, metadata={}, preferred_locales=[])

_NO_REQUEST: RequestInfo = {"id": None, "idempotency_key": None}


def _check_settings(
    store: object,
    clock: object,
    seed: object,
    idempotency_ttl: object,
    events: object,
    event_retention: object,
) -> None:
    """Refuse a misconfigured service when it is built, not at its first write or purge."""
    if not isinstance(store, Store):
        msg = (
            "CustomerService needs a store such as MemoryStore(), SQLiteStore(path) or "
            f"PostgresStore(dsn), not {store!r}."
        )
        raise TypeError(msg)
    if not callable(clock):
        msg = f"clock must be a callable returning the time in seconds, not {clock!r}."
        raise TypeError(msg)
    now = clock()  # read once: a clock of the wrong kind fails here, not at a write
    if isinstance(now, bool) or not isinstance(now, (int, float)):
        msg = f"clock must return the time in seconds as a number, but it returned {now!r}."
        raise TypeError(msg)
    if not math.isfinite(now):
        msg = f"clock must return a finite number of seconds, but it returned {now!r}."
        raise ValueError(msg)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, str))):
        msg = f"seed must be an int, a str or None, not {seed!r}."
        raise TypeError(msg)
    if isinstance(seed, str):
        check_text("seed", seed)
    check_flag("events", events)
    check_seconds("idempotency_ttl", idempotency_ttl)
    check_seconds("event_retention", event_retention)


def _missing(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, code="resource_missing", param=param)


class _Batches(threading.local):
    """This thread's ``svc.batch()`` blocks: how deep, and the first error that left an
    inner one (which dooms the outermost: its writes cannot be kept in part)."""

    depth = 0
    failed: BaseException | None = None


@dataclass(frozen=True, eq=False)
class Snapshot:
    """A service's whole state at one moment, from ``CustomerService.snapshot()``: the
    store's content and where its id generators (customers', events', webhook endpoints'
    ids and seeded secrets) stood."""

    store: Checkpoint
    ids: object


class CustomerService:
    """Create, retrieve, update, delete and list customers with Stripe's semantics.

    ``clock`` returns the current Unix time in seconds; ``seed`` makes ids and
    invoice prefixes reproducible, so two services built with the same clock and seed on
    stores holding the same data produce identical customers (on a store that holds data,
    the ids go on after its newest: a restarted seeded server never makes its last run's
    ids again). Safe to share between threads.

    >>> from customer_core import MemoryStore
    >>> svc = CustomerService(MemoryStore(), clock=lambda: 1_700_000_000, seed=1)
    >>> jenny = svc.create(name="Jenny Rosen", metadata={"plan": "gold"})
    >>> svc.update(jenny.id, metadata={"plan": "", "seats": 3}).metadata
    {'seats': '3'}
    >>> svc.delete(jenny.id).deleted
    True
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = system_clock,
        seed: int | str | None = None,
        idempotency_ttl: float = 24 * 60 * 60,
        events: bool = True,
        event_retention: float = DEFAULT_RETENTION,
    ) -> None:
        _check_settings(store, clock, seed, idempotency_ttl, events, event_retention)
        self._store = store
        self._clock = clock
        self._ids = IdGenerator(clock, seed)
        self._idempotency_ttl = idempotency_ttl
        self._in_flight: set[str] = set()
        self._in_flight_lock = threading.Lock()
        # The first write purges (a short-lived process, such as the CLI, purges too), then
        # every PURGE_EVERY-th.
        self._writes_since_purge = idempotency.PURGE_EVERY
        self.tax_ids = TaxIdService(self)
        """The customers' tax IDs: ``svc.tax_ids.create(customer_id, type=..., value=...)``."""
        self._bus = EventBus(store)
        self._batches = _Batches()
        self.webhooks = Webhooks(store)
        """Deliveries of events to webhook endpoints: ``webhooks.start_delivery()``,
        ``webhooks.attempts(endpoint=...)``."""
        self.events = EventLog(
            store,
            self._bus,
            clock=clock,
            seed=seed,
            retention=event_retention,
            enabled=events,
            webhooks=self.webhooks,
        )
        """The events of this service's changes: ``events.list(...)``, ``events.retrieve(id)``."""
        self.webhook_endpoints = WebhookEndpoints(
            store,
            clock=clock,
            seed=seed,
            idempotent=self._idempotent,
            on_change=self.webhooks.endpoints_changed,
        )
        """Where events are delivered: ``webhook_endpoints.create(url=..., enabled_events=[...])``."""
        if seed is not None:
            self._start_ids_after_newest()

    def _start_ids_after_newest(self) -> None:
        """A seeded service on a store holding data (a restart of a seeded server on its
        data file) makes its ids after the newest ones there, not its last run's again:
        a few O(log n) reads (docs/decisions.md, "Ids and prefixes")."""
        store = self._store
        newest = [
            found[0]["id"] if found else None
            for found in (
                store.scan(limit=1),
                store.event_scan(limit=1),
                store.webhook_endpoint_scan(limit=1),
            )
        ]
        if newest == [None, None, None]:
            return  # an empty store: the plain seed's ids
        ids = self._ids

        def taken(customer_id: str) -> bool:
            # Customer and tax IDs come from one sequence: the next id may be either's.
            tax_id = "txi_" + customer_id.removeprefix("cus_")
            return (
                store.get(customer_id) is not None
                or store.is_deleted(customer_id)
                or store.get_tax_id(tax_id) is not None
            )

        go_on_after(ids, newest[0], ids.customer_id, taken)
        self.events.start_ids_after(newest[1])
        self.webhook_endpoints.start_ids_after(newest[2])

    @property
    def ids(self) -> IdGenerator:
        """Where this service's ids come from (its clock and seed): wrappers draw request
        ids from it too, so a seeded service answers byte for byte the same every run."""
        return self._ids

    @property
    def store(self) -> Store:
        """The store this service writes to."""
        return self._store

    @property
    def may_block(self) -> bool:
        """Whether a call may wait for something besides CPU: the store may block
        (``Store.may_block``), or subscribers are registered (they run in the writing
        thread and may do anything). The HTTP server answers on its event loop only
        when this is False."""
        return self._store.may_block or self._bus.subscribed

    @contextmanager
    def batch(self) -> Iterator[CustomerService]:
        """Make every write inside the block one transaction: all of them or none.

        >>> from customer_core import MemoryStore
        >>> svc = CustomerService(MemoryStore())
        >>> with svc.batch():
        ...     _ = [svc.create(email=f"user{n}@example.com") for n in range(3)]
        >>> len(svc.list().data)
        3

        A batch inside a batch joins it (one transaction, no savepoint). If an inner block
        raises, the outermost rolls back as a whole even when the error was caught on the
        way: it then raises ``InvalidRequestError`` at its end, so no part of it is kept.
        """
        batches = self._batches
        with self._bus.writing():
            batches.depth += 1
            try:
                yield self
            except BaseException as error:
                if batches.depth > 1 and batches.failed is None:
                    batches.failed = error
                raise
            finally:
                batches.depth -= 1
                failed = batches.failed
                if not batches.depth:
                    batches.failed = None
            if not batches.depth and failed is not None:
                msg = (
                    "The batch was rolled back: a batch inside it raised "
                    f"{type(failed).__name__} ({failed}), so none of its writes were kept."
                )
                raise InvalidRequestError(msg) from failed

    def snapshot(self) -> Snapshot:
        """Return everything this service holds, for ``restore``: fill once, reset often.

        >>> from customer_core import MemoryStore
        >>> svc = CustomerService(MemoryStore(), clock=lambda: 1_700_000_000, seed=7)
        >>> empty = svc.snapshot()
        >>> first = svc.create(email="jenny@example.com").id
        >>> svc.restore(empty)
        >>> svc.list().data, svc.create(email="jenny@example.com").id == first
        ([], True)
        """
        with self._store.transaction():
            ids = (
                self._ids.get_state(),
                self.events.id_state(),
                self.webhook_endpoints.id_state(),
            )
            return Snapshot(self._store.checkpoint(), ids)

    def restore(self, snapshot: Snapshot) -> None:
        """Put the service back as it was at ``snapshot()``: every customer, tombstone,
        prefix, idempotency key, tax ID, event and webhook endpoint, and the id (and seeded
        secret) generators, so the same calls after a restore make the same ids. The clock
        is the caller's and is left alone."""
        if not isinstance(snapshot, Snapshot):
            msg = f"restore needs what snapshot() returned, not {snapshot!r}."
            raise TypeError(msg)
        with self._store.transaction():
            self._store.restore(snapshot.store)
            customer_ids, event_ids, endpoint_ids = cast(
                tuple[object, object, object], snapshot.ids
            )
            self._ids.set_state(customer_ids)
            self.events.set_id_state(event_ids)
            self.webhook_endpoints.set_id_state(endpoint_ids)
        self.webhooks.endpoints_changed()

    def subscribe(
        self, callback: Subscriber, types: Iterable[str] | None = None
    ) -> Callable[[], None]:
        """Call ``callback(event)`` after each commit that records an event of ``types``
        (names or ``*`` patterns such as ``customer.*``; None: every type), in commit order,
        once per event; an exception it raises is logged and fails nothing. Returns the
        function that unsubscribes. Every subscriber of an event gets the same ``Event``
        object: read it, copy it to change it (``event.model_copy(deep=True)``).

        >>> from customer_core import MemoryStore
        >>> svc = CustomerService(MemoryStore())
        >>> seen = []
        >>> unsubscribe = svc.subscribe(lambda event: seen.append(event.type), types=["customer.*"])
        >>> _ = svc.create(email="jenny@example.com")
        >>> unsubscribe()
        >>> seen
        ['customer.created']
        """
        if not self.events.enabled:
            msg = (
                "Events are turned off for this service (events=False): nothing would be published."
            )
            raise InvalidRequestError(msg)
        return self._bus.subscribe(callback, types)

    # --- rendering -----------------------------------------------------------------

    def _render(self, record: Record, included: frozenset[str]) -> Customer:
        return Customer.from_record(self._with_included(record, included))

    def _with_included(self, record: Record, included: frozenset[str]) -> Record:
        """The record with the includable fields ``expand`` asked for (tax IDs from the store)."""
        if "tax_ids" not in included:
            return with_included(record, included)
        nested = frozenset(
            name.removeprefix("tax_ids.data.") for name in included if name.startswith("tax_ids.")
        )
        tax_ids = self.tax_ids.embedded(record, nested)
        result = with_included(record, included)
        result["tax_ids"] = tax_ids
        return result

    # --- idempotency ---------------------------------------------------------------

    def _idempotent(
        self,
        endpoint: str,
        key: object,
        params: dict[str, Any],
        prepare: Callable[[], Callable[[], _Saved | Record]],
        model: type[_Saved],
        from_form: bool = False,
        self_contained: bool = False,
    ) -> Outcome:
        """Run a POST operation at most once per idempotency key (Stripe's rules) and
        return its Outcome: the result, whether it is the saved answer of an earlier
        request, and the result's JSON body when it was encoded for the saved entry.

        ``prepare`` validates the params and returns the operation, which gives a model
        or, for customers, the customer's record (``Outcome`` builds the model only if
        asked: a wrapper sends the body alone). Validation failures are not saved, so a
        corrected retry runs. Anything after validation, success or Stripe error, is
        saved in the store with the endpoint and the params (or their fingerprint:
        ``idempotency.request_fingerprint``), and
        replayed for the same key for ``idempotency_ttl`` seconds; a replay says so (the
        flag, or ``replayed`` on the error raised again). A success is saved as the JSON
        body Stripe sends (``Outcome.to_json``), encoded once for both the entry and the
        wrapper that answers. ``from_form``: the params are the form decoder's (strings in
        plain dicts and lists), kept in the entry as they are without looking through them.
        ``self_contained``: the operation makes its own write block (update), so a request
        without a key does not open a second one around it.
        """
        key = idempotency.check_key(key)
        if key is None:
            operation = prepare()
            self._purge_expired_keys()
            return Outcome.of(operation() if self_contained else self._atomically(operation))
        with self._in_flight_lock:
            if key in self._in_flight:
                raise idempotency.in_use(key)
            self._in_flight.add(key)
        try:
            request = {"params": params} if from_form else idempotency.request_fingerprint(params)
            with self._bus.writing():
                now = int(self._clock())
                entry = self._store.idempotency_get(key)
                if entry is not None and entry["created"] > now - self._idempotency_ttl:
                    replayed, saved_body = idempotency.replay(
                        key, endpoint, idempotency.fingerprint(params), entry, model
                    )
                    return Outcome(replayed, True, saved_body)
                operation = prepare()
                failure: CustomerCoreError | None = None
                outcome: Outcome | None = None
                try:
                    outcome = Outcome.of(operation())
                    body = outcome.to_json()
                    saved: dict[str, Any] = {"status": 200, "json": body.decode()}
                except (InvalidRequestError, IdempotencyError) as error:
                    failure = error
                    saved = {"status": error.http_status, "body": error.to_dict()}
                self._store.idempotency_put(
                    key, {"created": now, "endpoint": endpoint, **request, **saved}
                )
                self._purge_expired_keys(now)
            if failure is not None:
                raise failure
            assert outcome is not None
            return outcome.with_body(body)
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(key)

    def _atomically(self, operation: Callable[[], _Done]) -> _Done:
        """Run a write with the events it records in one transaction (a lone store write
        is atomic already when there are no events). ``TaxIdService.delete`` runs its
        write through it too."""
        if not self.events.enabled:
            return operation()
        with self._bus.writing():
            return operation()

    def _purge_expired_keys(self, now: int | None = None) -> None:
        """Forget expired idempotency entries on this service's first write, then on every
        ``PURGE_EVERY``-th: every process that writes purges, however briefly it runs."""
        self._writes_since_purge += 1
        if self._writes_since_purge >= idempotency.PURGE_EVERY:
            now = int(self._clock()) if now is None else now
            before = int(now - self._idempotency_ttl)
            removed = self._store.idempotency_purge(before=before, limit=PURGE_LIMIT)
            # A full bite leaves more: the next write purges again (a backlog goes in bites).
            self._writes_since_purge = idempotency.PURGE_EVERY if removed >= PURGE_LIMIT else 0

    # --- operations ----------------------------------------------------------------

    def execute(
        self,
        operation: Operation,
        params: Mapping[str, Any] | None = None,
        *,
        id: str | None = None,
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ) -> Result:
        """Run one operation with its params as a mapping and return its result.

        ``create`` and ``update`` honour ``idempotency_key``; on the read operations and
        ``delete`` it has no effect, as on Stripe's GET and DELETE. Because params are a
        mapping, a param named ``idempotency_key`` or ``id`` is an unknown param, as on
        the wire. ``svc.create(**params)`` is ``svc.execute("create", params)``.
        ``request_id`` (the HTTP Request-Id) and the idempotency key go into the
        ``request`` of the events the operation records.
        """
        return self.perform(
            operation, params, id=id, idempotency_key=idempotency_key, request_id=request_id
        ).result

    def perform(
        self,
        operation: Operation,
        params: Mapping[str, Any] | None = None,
        *,
        id: str | None = None,
        idempotency_key: str | None = None,
        request_id: str | None = None,
        from_form: bool = False,
    ) -> Outcome:
        """``execute``, also telling whether the result replays an earlier request with
        the same idempotency key: the entry point for wrappers, which send Stripe's
        ``Idempotent-Replayed: true`` header on a replay.

        ``from_form=True`` says ``params`` is a new dict from the form decoder
        (``customer_core.http.forms.decode``: strings in plain dicts and lists, which no
        one else holds): it is used as it is, neither copied nor looked through before an
        idempotency entry keeps it.
        """
        params = params if from_form and params.__class__ is dict else param_dict(params)
        if id is not None and operation in ("create", "list", "search"):
            msg = f"Invalid id: {operation} takes no id (retrieve, update and delete do)."
            raise InvalidRequestError(msg, param="id")
        if operation == "create":
            return self._create_once(params, idempotency_key, request_id, from_form)
        if operation == "list":
            return Outcome(self._list(params))
        if operation == "search":
            return Outcome(self._search(params))
        if operation not in ("retrieve", "update", "delete"):
            msg = f"Unknown operation {operation!r}; expected one of {', '.join(OPERATIONS)}."
            raise InvalidRequestError(msg)
        customer_id = path_id(id, "id", "cus_...")
        if operation == "retrieve":
            return Outcome(self._retrieve(customer_id, params))
        if operation == "update":
            return self._update_once(customer_id, params, idempotency_key, request_id, from_form)
        return Outcome(self._delete(customer_id, params, request_info(request_id, idempotency_key)))

    def create(self, /, *, idempotency_key: str | None = None, **params: Any) -> Customer:
        """Create a customer (``POST /v1/customers``) and return it.

        With ``idempotency_key``, a retry with the same key and params returns the same
        customer instead of creating another (see ``_idempotent``).
        """
        return cast(Customer, self._create_once(params, idempotency_key).result)

    def _create_once(
        self,
        params: dict[str, Any],
        idempotency_key: object,
        request_id: str | None = None,
        from_form: bool = False,
    ) -> Outcome:
        request = request_info(request_id, idempotency_key)
        return self._idempotent(
            "/v1/customers",
            idempotency_key,
            params,
            lambda: self._prepare_create(params, request),
            Customer,
            from_form,
            self_contained=True,
        )

    def _prepare_create(self, params: dict[str, Any], request: RequestInfo) -> Callable[[], Record]:
        p = parse(CustomerCreateParams, params)
        self.tax_ids.check_data(p.tax_id_data)
        included = expansions(p.expand)
        return lambda: self._create(p, included, request)

    def _create(
        self, p: CustomerCreateParams, included: frozenset[str], request: RequestInfo
    ) -> Record:
        """Make the customer; return its record as the answer shows it (``Outcome``)."""
        if p.payment_method is not None:
            raise _missing(f"No such PaymentMethod: '{p.payment_method}'", "payment_method")
        if p.source is not None:
            raise _missing(f"No such token: '{p.source}'", "source")
        if p.test_clock is not None:
            raise _missing(f"No such test clock: '{p.test_clock}'", "test_clock")
        settings = _invoice_settings(_EMPTY_INVOICE_SETTINGS, p.invoice_settings)
        self._check_payment_method(settings)
        name = p.name
        if name is None:
            # API 2025-09-30.clover: name defaults to business_name, else individual_name.
            name = p.business_name if p.business_name is not None else p.individual_name
        record: Record = {
            "id": self._ids.customer_id(),
            "object": "customer",
            "address": _address(p.address),
            "balance": p.balance,
            "created": int(self._clock()),
            "currency": None,
            "customer_account": None,
            "default_source": None,
            "delinquent": False,
            "description": p.description,
            "discount": None,
            "email": p.email,
            "invoice_prefix": p.invoice_prefix,
            "invoice_settings": settings,
            "livemode": False,
            "metadata": metadata_rules.merge({}, p.metadata or {}),
            "name": name,
            "next_invoice_sequence": p.next_invoice_sequence,
            "phone": p.phone,
            "preferred_locales": list(p.preferred_locales),
            "shipping": _shipping(p.shipping),
            "tax_exempt": p.tax_exempt,
            "test_clock": None,
        }
        if p.business_name is not None or p.individual_name is not None:
            for field in _NAME_FIELDS:
                if getattr(p, field) is not None:
                    record[field] = getattr(p, field)
            record = canonical(record)
        generate_prefix = p.invoice_prefix is None
        events = self.events
        if not events.enabled:
            if not p.tax_id_data:
                self.insert_record(record, generate_prefix=generate_prefix)
            else:  # a customer and the tax IDs of its tax_id_data: together or not at all
                with self._store.transaction():
                    self.insert_record(record, generate_prefix=generate_prefix)
                    self.tax_ids.insert_data(record, p.tax_id_data)
        elif not p.tax_id_data and events.alone():
            # Customer and event in one store call, with no write block around them.
            event = events.new_event("customer.created", request, alone=True)
            self._insert_record(record, generate_prefix, event)
            events.recorded(event, record)
        else:
            with self._bus.writing():
                self.insert_record(record, generate_prefix=generate_prefix)
                tax_ids = self.tax_ids.insert_data(record, p.tax_id_data or ())
                events.record("customer.created", record, request)
                if tax_ids:
                    self.tax_ids.record_events("customer.tax_id.created", tax_ids, request)
        return self._with_included(record, included)

    def insert_record(self, record: Record, *, generate_prefix: bool) -> None:
        """Store ``record``, a complete customer (``customer_record``'s shape), as create
        stores one: with ``generate_prefix`` its invoice prefix is made here, another one
        if the first is taken; a given prefix that is taken is Stripe's error. No event is
        recorded: for bulk loads (``customer_core.transfer``) that keep ids and times."""
        self._insert_record(record, generate_prefix, None)

    def _insert_record(
        self, record: Record, generate_prefix: bool, event: EventParts | None
    ) -> None:
        """``insert_record``, with the ``customer.created`` event of ``event``'s parts
        written in the same store call when given (``Store.insert_with_event``)."""
        store = self._store
        for attempt in range(_MAX_INVOICE_PREFIX_ATTEMPTS):
            if generate_prefix:
                record["invoice_prefix"] = self._ids.invoice_prefix(jump=attempt > 0)
            try:
                if event is None:
                    store.insert(record)
                else:
                    store.insert_with_event(record, *event)
            except DuplicateKeyError as error:
                if error.key != "invoice_prefix":
                    raise
                if not generate_prefix:
                    raise invoice_prefix_in_use(record["invoice_prefix"]) from None
            else:
                return
        msg = "Could not find a free invoice prefix; please try again."
        raise InvalidRequestError(msg, param="invoice_prefix")

    @staticmethod
    def stored_record(values: Mapping[str, Any]) -> Record:
        """The stored record of a customer given whole, as the API returns one (its
        fields validated by the create params' rules): Stripe's defaults for fields left
        out, nested values completed and metadata merged as create does it (raises its
        InvalidRequestError past 50 keys), Stripe's key order, expand-only fields dropped."""
        # Merged onto the defaults, every key takes the defaults' place: Stripe's order.
        record = {**_RECORD_DEFAULTS, **values}
        if len(record) > len(_RECORD_DEFAULTS):  # expand-only fields: views of other objects
            record = {name: record[name] for name in _RECORD_DEFAULTS}
        record["address"] = _address(record["address"])
        record["invoice_settings"] = _invoice_settings(
            _EMPTY_INVOICE_SETTINGS, record["invoice_settings"]
        )
        record["metadata"] = metadata_rules.merge({}, record["metadata"] or {})
        record["preferred_locales"] = list(record["preferred_locales"] or ())
        record["tax_exempt"] = record["tax_exempt"] or "none"
        shipping = record["shipping"]
        if shipping is not None:
            record["shipping"] = {
                "address": _address(shipping["address"]),
                "carrier": shipping.get("carrier"),
                "name": shipping["name"],
                "phone": shipping.get("phone"),
                "tracking_number": shipping.get("tracking_number"),
            }
        for name in _NAME_FIELDS:  # absent unless set, as the API leaves them out
            if record[name] is None:
                del record[name]
        return record

    def _check_payment_method(self, settings: Mapping[str, Any]) -> None:
        method = settings.get("default_payment_method")
        if method is not None:
            raise _missing(
                f"No such PaymentMethod: '{method}'", "invoice_settings[default_payment_method]"
            )

    def retrieve(self, id: str, /, **params: Any) -> Customer | DeletedCustomer:
        """Return a customer, or the ``{id, object, deleted: true}`` stub if it was deleted."""
        return self._retrieve(path_id(id, "id", "cus_..."), params)

    def _retrieve(self, customer_id: str, params: dict[str, Any]) -> Customer | DeletedCustomer:
        included = expansions(parse(CustomerRetrieveParams, params).expand) if params else NOTHING
        record = self._store.get(customer_id)
        if record is not None:
            return self._render(record, included)
        if self._store.is_deleted(customer_id):
            return DeletedCustomer(id=customer_id)
        raise no_such_customer(customer_id)

    def update(self, id: str, /, *, idempotency_key: str | None = None, **params: Any) -> Customer:
        """Change the given fields of a live customer; ``metadata`` merges, ``""`` unsets."""
        return cast(
            Customer,
            self._update_once(path_id(id, "id", "cus_..."), params, idempotency_key).result,
        )

    def _update_once(
        self,
        customer_id: str,
        params: dict[str, Any],
        idempotency_key: object,
        request_id: str | None = None,
        from_form: bool = False,
    ) -> Outcome:
        request = request_info(request_id, idempotency_key)
        return self._idempotent(
            f"/v1/customers/{customer_id}",
            idempotency_key,
            params,
            lambda: self._prepare_update(customer_id, params, request),
            Customer,
            from_form,
            self_contained=True,
        )

    def _prepare_update(
        self, customer_id: str, params: dict[str, Any], request: RequestInfo
    ) -> Callable[[], Record]:
        p = parse(CustomerUpdateParams, params)
        included = expansions(p.expand)
        return lambda: self._update(customer_id, p, included, request)

    def _update(
        self,
        customer_id: str,
        p: CustomerUpdateParams,
        included: frozenset[str],
        request: RequestInfo,
    ) -> Record:
        """Change the customer; return its record as the answer shows it (``Outcome``)."""
        given = p.model_fields_set
        with self._bus.writing():
            record = self._store.get(customer_id)
            if record is None:
                raise no_such_customer(customer_id)
            # Nested values are replaced on update, never changed in place: a shallow copy
            # keeps the old customer.
            before = dict(record)
            self._check_sources(customer_id, p)
            for name in _COPIED_ON_UPDATE:
                if name in given:
                    record[name] = getattr(p, name)
            for name in _NAME_FIELDS:
                if name in given:
                    value = getattr(p, name)
                    if value is None:
                        record.pop(name, None)
                    else:
                        record[name] = value
            if given.intersection(_NAME_FIELDS):
                record = canonical(record)  # a name added last goes to its place in the order
            if "address" in given:
                record["address"] = _address(p.address)
            if "shipping" in given:
                record["shipping"] = _shipping(p.shipping)
            if "invoice_settings" in given:
                record["invoice_settings"] = _invoice_settings(
                    record["invoice_settings"], p.invoice_settings
                )
                if p.invoice_settings and "default_payment_method" in p.invoice_settings:
                    self._check_payment_method(record["invoice_settings"])
            if "metadata" in given:
                record["metadata"] = metadata_rules.merge(record["metadata"], p.metadata)
            if "preferred_locales" in given:
                record["preferred_locales"] = list(p.preferred_locales)
            if "invoice_prefix" in given:
                record["invoice_prefix"] = p.invoice_prefix
            try:
                self._store.replace(record)
            except DuplicateKeyError as error:
                raise invoice_prefix_in_use(error.value) from None
            if self.events.enabled:
                changed: Record | PreviousAttributes | None = None
                if not self._store.works_out_previous_attributes:
                    # Only the fields given can change: the diff compares those alone.
                    params = frozenset(given)
                    diffed = _DIFFED_KEYS.get(params)
                    if diffed is None:
                        diffed = tuple(
                            sorted(params & _FIELD_NAMES, key=_FIELD_POSITION.__getitem__)
                        )
                        if len(_DIFFED_KEYS) < _DIFFED_KEYS_MAX:
                            _DIFFED_KEYS[params] = diffed
                    changed = previous_attributes(before, record, diffed)
                elif changes(before, record, given):  # a param that is no field: None, None
                    # The store works the diff out when the event is read (the memory
                    # store keeps the customer's bytes before the update for it), of the
                    # whole records: what the diff of the fields given gives, in order.
                    changed = PreviousAttributes(previous_attributes, before, record)
                if changed:  # an update that changes nothing records no event
                    self.events.record("customer.updated", record, request, changed)
        return self._with_included(record, included)

    def _check_sources(self, customer_id: str, p: CustomerUpdateParams) -> None:
        """This library keeps no payment sources: naming one is Stripe's not-found error."""
        for name in _DEFAULT_SOURCE_PARAMS:
            value = getattr(p, name)
            if value is not None:
                msg = f"The customer {customer_id} does not have a linked source with ID {value}."
                raise _missing(msg, name)
        if p.source is not None:
            raise _missing(f"No such token: '{p.source}'", "source")
        for name in ("bank_account", "card"):
            value = getattr(p, name)
            if isinstance(value, str):
                raise _missing(f"No such token: '{value}'", name)
            if value is not None:
                msg = (
                    f"customer_core keeps no payment sources, so {name} details cannot be "
                    "attached; attach a PaymentMethod in Stripe instead."
                )
                raise InvalidRequestError(msg, param=name)

    def delete(
        self, id: str, /, *, idempotency_key: str | None = None, **params: Any
    ) -> DeletedCustomer:
        """Delete a customer for good; it stays retrievable as a tombstone stub.
        ``idempotency_key`` changes nothing (Stripe ignores a key on a DELETE) but goes
        into the ``customer.deleted`` event's ``request``, as over HTTP."""
        request = _NO_REQUEST if idempotency_key is None else request_info(None, idempotency_key)
        return self._delete(path_id(id, "id", "cus_..."), params, request)

    def _delete(
        self, customer_id: str, params: dict[str, Any], request: RequestInfo
    ) -> DeletedCustomer:
        parse(NoParams, params)
        self._purge_expired_keys()
        if not self.events.enabled:
            try:
                self._store.delete(customer_id)
            except RecordNotFoundError:
                raise no_such_customer(customer_id) from None
            return DeletedCustomer(id=customer_id)
        with self._bus.writing():
            record = self._store.get(customer_id)
            if record is None:
                raise no_such_customer(customer_id)
            tax_ids = self._store.tax_ids(customer_id, descending=False)
            self._store.delete(customer_id)
            # The tax IDs go with the customer: an event each (docs/decisions.md), oldest first.
            self.tax_ids.record_events("customer.tax_id.deleted", tax_ids, request)
            # The customer as it was, not the {id, object, deleted} stub (as Stripe does).
            self.events.record("customer.deleted", record, request)
        return DeletedCustomer(id=customer_id)

    def search(
        self,
        query: str = _REQUIRED,
        *,
        limit: int = 10,
        page: str | None = None,
        expand: Sequence[str] | None = None,
        **params: Any,
    ) -> SearchPage:
        """Return a page of live customers matching a search query, newest first.

        ``query`` uses Stripe's search query language (see ``customer_core.search``),
        positionally or by name; pass a page's ``next_page`` back as ``page`` for the next
        one (``None`` is the first page). ``expand=["total_count"]`` adds the number of
        matches (counted up to 10,000, as Stripe documents). Other params are refused as
        on the wire.
        """
        if query is not _REQUIRED:
            params["query"] = query
        params["limit"] = limit
        if page is not None:
            params["page"] = page
        if expand is not None:
            params["expand"] = expand
        return self._search(params)

    def _search(self, params: dict[str, Any]) -> SearchPage:
        p = parse(CustomerSearchParams, params)
        query = parse_query(p.query)
        wants_total = "total_count" in p.expand
        included = expansions([path for path in p.expand if path != "total_count"], prefix="data")
        key_range = (
            KeyRange()
            if p.page is None
            else KeyRange(upper=page_key(p.page, p.query), upper_inclusive=False)
        )
        records = search_engine.find(self._store, query, key_range, limit=p.limit + 1)
        has_more = len(records) > p.limit
        del records[p.limit :]
        next_page = (
            page_token((records[-1]["created"], records[-1]["id"]), p.query) if has_more else None
        )
        total = (
            search_engine.count(self._store, query, cap=TOTAL_COUNT_CAP) if wants_total else None
        )
        if included:
            records = [self._with_included(record, included) for record in records]
        return SearchPage(records, has_more, next_page, total)

    def list(self, /, **params: Any) -> ListPage:
        """Return a page of live customers, newest first (``GET /v1/customers``)."""
        return self._list(params)

    def _list(self, params: dict[str, Any]) -> ListPage:
        p = parse(CustomerListParams, params)
        included = expansions(p.expand, prefix="data")
        if p.test_clock is not None:
            raise _missing(f"No such test clock: '{p.test_clock}'", "test_clock")
        cursor_keys, descending = cursor_range(
            p.starting_after,
            p.ending_before,
            self._store.sort_key,
            lambda cursor, param: no_such_customer(cursor, param=param, http_status=400),
        )
        key_range = created_range(p.created).intersect(cursor_keys)
        records, has_more = trim_page(
            self._store.scan(key_range, descending=descending, email=p.email, limit=p.limit + 1),
            p.limit,
            descending,
        )
        if included:
            records = [self._with_included(record, included) for record in records]
        return ListPage(records, has_more)


Result = (
    Customer
    | DeletedCustomer
    | ListPage
    | SearchPage
    | TaxId
    | DeletedTaxId
    | TaxIdList
    | Event
    | EventListPage
    | WebhookEndpoint
    | DeletedWebhookEndpoint
    | WebhookEndpointList
    | DeliveryAttemptList
)
"""What an operation returns."""


Operation = Literal["create", "retrieve", "update", "delete", "list", "search"]
OPERATIONS: tuple[str, ...] = ("create", "retrieve", "update", "delete", "list", "search")
