"""CustomerService: the one place where Stripe's customer semantics live.

It validates parameters, applies Stripe's defaults and update rules, turns cursors
into key ranges and words every error as Stripe does. Storage is whatever ``Store``
it is given; it never looks behind that port.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from . import metadata as metadata_rules
from .errors import DuplicateKeyError, InvalidRequestError, RecordNotFoundError, no_such_customer
from .ids import Clock, IdGenerator, system_clock
from .models import Customer, DeletedCustomer, ListPage, Record, SearchPage
from .params import (
    CustomerCreateParams,
    CustomerListParams,
    CustomerRetrieveParams,
    CustomerSearchParams,
    CustomerUpdateParams,
    NoParams,
    parse,
)
from .search import parse as parse_query
from .store.base import KeyRange, SortKey, Store

__all__ = ["CustomerService"]

_FIELD_ORDER = tuple(Customer.model_fields)

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
_DEFAULT_SOURCE_PARAMS = (
    "default_alipay_account",
    "default_bank_account",
    "default_card",
    "default_source",
)

# What ``expand`` may name. Id fields may be followed by deeper segments: they are
# null here (this library keeps no sources, clocks or payment methods), so those
# expand to null as Stripe's would for an unset reference.
_REFERENCES = ("default_source", "test_clock")
_NESTED = ("address", "discount", "shipping")
_INCLUDABLE = (
    "cash_balance",
    "invoice_credit_balance",
    "sources",
    "subscriptions",
    "tax",
    "tax_ids",
)
_MAX_EXPAND_DEPTH = 4
_NONE: frozenset[str] = frozenset()
_MAX_INVOICE_PREFIX_ATTEMPTS = 32


def _canonical(record: Record) -> Record:
    """Return ``record`` with its keys in Stripe's order (id, object, then alphabetical)."""
    return {name: record[name] for name in _FIELD_ORDER if name in record}


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


_EMPTY_RECORD_KEYS = frozenset(Customer.model_fields) - Customer.OMITTED_UNLESS_SET

_EMPTY_INVOICE_SETTINGS = {
    "custom_fields": None,
    "default_payment_method": None,
    "footer": None,
    "rendering_options": None,
}


def _missing(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, code="resource_missing", param=param)


def _expansions(paths: list[str], *, prefix: str = "") -> frozenset[str]:
    """Check ``expand`` paths; return the includable fields they ask for."""
    included = set()
    for path in paths:
        segments = path.split(".")
        if len(segments) > _MAX_EXPAND_DEPTH:
            msg = (
                f"You cannot expand more than {_MAX_EXPAND_DEPTH} levels of a property. "
                f"Property: {path}"
            )
            raise InvalidRequestError(msg, param="expand")
        local = segments
        if prefix:
            if segments[0] != prefix:
                msg = f"This property cannot be expanded ({segments[0]})."
                raise InvalidRequestError(msg, param="expand")
            local = segments[1:]
        if not local:
            msg = f"This property cannot be expanded ({path})."
            raise InvalidRequestError(msg, param="expand")
        head = local[0]
        bad: int | None = None
        if head in _REFERENCES:
            pass
        elif head in _INCLUDABLE or head in _NESTED:
            bad = 1 if len(local) > 1 else None
            if head in _INCLUDABLE and bad is None:
                included.add(head)
        elif head == "invoice_settings":
            if len(local) > 1 and local[1] != "default_payment_method":
                bad = 1
        else:
            bad = 0
        if bad is not None:
            shown = ".".join(segments[: len(segments) - len(local) + bad + 1])
            msg = f"This property cannot be expanded ({shown})."
            raise InvalidRequestError(msg, param="expand")
    return frozenset(included)


def _included(customer_id: str, name: str) -> Any:
    """The value of an includable field: this library keeps no balances, sources,
    subscriptions or tax ids, so they are empty (docs/decisions.md)."""
    if name == "tax":
        return {
            "automatic_tax": "unrecognized_location",
            "ip_address": None,
            "location": None,
            "provider": "stripe",
        }
    if name == "invoice_credit_balance":
        return {}
    if name == "cash_balance":
        return None
    return {"object": "list", "data": [], "has_more": False, "url": f"/v1/customers/{customer_id}/{name}"}


def _with_included(record: Record, included: frozenset[str]) -> Record:
    """Add the includable fields ``expand`` asked for, in Stripe's key order."""
    if not included:
        return record
    extra = {name: _included(record["id"], name) for name in included}
    return _canonical({**record, **extra})


def _customer_id(value: object) -> str:
    if not isinstance(value, str):
        msg = f"Invalid customer id: {value!r} (expected a string such as 'cus_...')"
        raise InvalidRequestError(msg, param="id")
    return value


class CustomerService:
    """Create, retrieve, update, delete and list customers with Stripe's semantics.

    ``clock`` returns the current Unix time in seconds; ``seed`` makes ids and
    invoice prefixes reproducible, so two services built with the same clock and seed
    produce identical customers. Safe to share between threads.

    >>> from customer_core import MemoryStore
    >>> svc = CustomerService(MemoryStore(), clock=lambda: 1_700_000_000, seed=1)
    >>> jenny = svc.create(name="Jenny Rosen", metadata={"plan": "gold"})
    >>> svc.update(jenny.id, metadata={"plan": "", "seats": 3}).metadata
    {'seats': '3'}
    >>> svc.delete(jenny.id).deleted
    True
    """

    def __init__(self, store: Store, *, clock: Clock = system_clock, seed: int | None = None) -> None:
        self._store = store
        self._clock = clock
        self._ids = IdGenerator(clock, seed)

    @property
    def store(self) -> Store:
        """The store this service writes to."""
        return self._store

    @contextmanager
    def batch(self) -> Iterator[CustomerService]:
        """Make every write inside the block one transaction: all of them or none.

        >>> from customer_core import MemoryStore
        >>> svc = CustomerService(MemoryStore())
        >>> with svc.batch():
        ...     _ = [svc.create(email=f"user{n}@example.com") for n in range(3)]
        >>> len(svc.list().data)
        3
        """
        with self._store.transaction():
            yield self

    # --- rendering -----------------------------------------------------------------

    def _render(self, record: Record, included: frozenset[str]) -> Customer:
        return Customer.from_record(_with_included(record, included))

    # --- operations ----------------------------------------------------------------

    def create(self, /, **params: Any) -> Customer:
        """Create a customer (``POST /v1/customers``) and return it."""
        p = parse(CustomerCreateParams, params)
        included = _expansions(p.expand)
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
            "id": "",
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
        for field in _NAME_FIELDS:
            value = getattr(p, field)
            if value is not None:
                record[field] = value
        if len(record) > len(_EMPTY_RECORD_KEYS):
            record = _canonical(record)
        record["id"] = self._ids.customer_id()
        self._insert(record, generate_prefix=p.invoice_prefix is None)
        return self._render(record, included)

    def _insert(self, record: Record, *, generate_prefix: bool) -> None:
        for _ in range(_MAX_INVOICE_PREFIX_ATTEMPTS):
            if generate_prefix:
                record["invoice_prefix"] = self._ids.invoice_prefix()
            try:
                self._store.insert(record)
            except DuplicateKeyError as error:
                if error.key != "invoice_prefix":
                    raise
                if not generate_prefix:
                    raise _prefix_taken(record["invoice_prefix"]) from None
            else:
                return
        msg = "Could not find a free invoice prefix; please try again."
        raise InvalidRequestError(msg, param="invoice_prefix")

    def _check_payment_method(self, settings: Mapping[str, Any]) -> None:
        method = settings.get("default_payment_method")
        if method is not None:
            raise _missing(
                f"No such PaymentMethod: '{method}'", "invoice_settings[default_payment_method]"
            )

    def retrieve(self, id: str, /, **params: Any) -> Customer | DeletedCustomer:
        """Return a customer, or the ``{id, object, deleted: true}`` stub if it was deleted."""
        customer_id = _customer_id(id)
        included = _expansions(parse(CustomerRetrieveParams, params).expand) if params else _NONE
        record = self._store.get(customer_id)
        if record is not None:
            return self._render(record, included)
        if self._store.is_deleted(customer_id):
            return DeletedCustomer(id=customer_id)
        raise no_such_customer(customer_id)

    def update(self, id: str, /, **params: Any) -> Customer:
        """Change the given fields of a live customer; ``metadata`` merges, ``""`` unsets."""
        customer_id = _customer_id(id)
        p = parse(CustomerUpdateParams, params)
        included = _expansions(p.expand)
        given = p.model_fields_set
        with self._store.transaction():
            record = self._store.get(customer_id)
            if record is None:
                raise no_such_customer(customer_id)
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
            record = _canonical(record)
            try:
                self._store.replace(record)
            except DuplicateKeyError as error:
                raise _prefix_taken(error.value) from None
        return self._render(record, included)

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

    def delete(self, id: str, /, **params: Any) -> DeletedCustomer:
        """Delete a customer for good; it stays retrievable as a tombstone stub."""
        customer_id = _customer_id(id)
        parse(NoParams, params)
        try:
            self._store.delete(customer_id)
        except RecordNotFoundError:
            raise no_such_customer(customer_id) from None
        return DeletedCustomer(id=customer_id)

    def search(self, /, **params: Any) -> SearchPage:
        """Return a page of live customers matching a search query, newest first.

        ``query`` uses Stripe's search query language (see ``customer_core.search``); pass
        a page's ``next_page`` back as ``page`` for the next one. ``expand=["total_count"]``
        adds the number of matches (counted up to 10,000, as Stripe documents).
        """
        p = parse(CustomerSearchParams, params)
        query = parse_query(p.query)
        wants_total = "total_count" in p.expand
        included = _expansions([path for path in p.expand if path != "total_count"], prefix="data")
        key_range = KeyRange() if p.page is None else KeyRange(upper=_page_key(p.page), upper_inclusive=False)
        records = self._store.search(query, key_range, limit=p.limit + 1)
        has_more = len(records) > p.limit
        del records[p.limit :]
        next_page = _page_token((records[-1]["created"], records[-1]["id"])) if has_more else None
        total = self._store.count_matches(query) if wants_total else None
        if included:
            records = [_with_included(record, included) for record in records]
        return SearchPage(records, has_more, next_page, total)

    def list(self, /, **params: Any) -> ListPage:
        """Return a page of live customers, newest first (``GET /v1/customers``)."""
        p = parse(CustomerListParams, params)
        included = _expansions(p.expand, prefix="data")
        if p.test_clock is not None:
            raise _missing(f"No such test clock: '{p.test_clock}'", "test_clock")
        key_range = _created_range(p.created)
        cursors = {}
        for name in ("starting_after", "ending_before"):
            cursor = getattr(p, name)
            if cursor is not None:
                key = self._store.sort_key(cursor)
                if key is None:
                    raise no_such_customer(cursor, param=name, http_status=400)
                cursors[name] = key
        if len(cursors) == 2:
            msg = (
                "Received both starting_after and ending_before parameters. "
                "Please pass in only one."
            )
            raise InvalidRequestError(msg)
        descending = "ending_before" not in cursors
        if "starting_after" in cursors:
            key_range = key_range.intersect(
                KeyRange(upper=cursors["starting_after"], upper_inclusive=False)
            )
        elif "ending_before" in cursors:
            key_range = key_range.intersect(
                KeyRange(lower=cursors["ending_before"], lower_inclusive=False)
            )
        records = self._store.scan(
            key_range, descending=descending, email=p.email, limit=p.limit + 1
        )
        has_more = len(records) > p.limit
        del records[p.limit :]
        if not descending:
            records.reverse()
        if included:
            records = [_with_included(record, included) for record in records]
        return ListPage(records, has_more)


_PAGE_PREFIX = "page_"


def _page_token(key: SortKey) -> str:
    """An opaque ``next_page`` token: the sort key of the last customer shown."""
    raw = f"{key[0]}:{key[1]}".encode()
    return _PAGE_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _page_key(token: str) -> SortKey:
    try:
        if not token.startswith(_PAGE_PREFIX):
            raise ValueError(token)
        encoded = token[len(_PAGE_PREFIX) :]
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        created, customer_id = raw.split(":", 1)
        return int(created), customer_id
    except ValueError:
        msg = f"Invalid page: {token!r} is not a next_page value returned by a previous search."
        raise InvalidRequestError(msg, param="page") from None


def _created_range(created: int | Mapping[str, int | None] | None) -> KeyRange:
    """Turn a ``created`` filter (exact int or gt/gte/lt/lte) into sort-key bounds."""
    if created is None:
        return KeyRange()
    if isinstance(created, int):
        created = {"gte": created, "lte": created}
    key_range = KeyRange()
    gte, gt, lte, lt = (created.get(name) for name in ("gte", "gt", "lte", "lt"))
    if gte is not None:
        key_range = key_range.intersect(KeyRange(lower=(gte, "")))
    if gt is not None:
        key_range = key_range.intersect(KeyRange(lower=(gt + 1, "")))
    if lte is not None:
        key_range = key_range.intersect(KeyRange(upper=(lte + 1, ""), upper_inclusive=False))
    if lt is not None:
        key_range = key_range.intersect(KeyRange(upper=(lt, ""), upper_inclusive=False))
    return key_range


def _prefix_taken(prefix: str) -> InvalidRequestError:
    msg = (
        f"Invoice prefix {prefix} is already in use. Invoice prefixes must be unique "
        "across all customers, including deleted ones."
    )
    return InvalidRequestError(msg, param="invoice_prefix")
