"""Customer tax IDs: the TaxId object, its params, and ``TaxIdService`` (``svc.tax_ids``).

A tax ID belongs to one customer: it is made by ``tax_id_data`` on customer create or by
``svc.tax_ids.create``, listed by ``expand=["tax_ids"]`` on the customer, and deleted with
the customer. The store keeps the records (``Store.insert_tax_id`` and its siblings);
the rules live here. Choices are written down in docs/decisions.md.

>>> from customer_core import CustomerService, MemoryStore
>>> svc = CustomerService(MemoryStore())
>>> jenny = svc.create(name="Jenny Rosen")
>>> vat = svc.tax_ids.create(jenny.id, type="eu_vat", value="DE123456789")
>>> (vat.country, vat.verification.status, vat.owner.customer == jenny.id)
('DE', 'pending', True)
>>> [tax_id.id for tax_id in svc.tax_ids.list(jenny.id).data] == [vat.id]
True
>>> svc.tax_ids.delete(jenny.id, vat.id).deleted
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import pydantic_core
from pydantic import PlainValidator

from .errors import InvalidRequestError, RecordNotFoundError, no_such_customer
from .expand import cannot_expand, check_list_path, too_deep
from .models import Customer, Record, _Model
from .outcome import Outcome, request_info
from .pagination import cursor_range, trim_page
from .params import (
    Expand,
    NoParams,
    TaxIdValue,
    _Params,
    enum,
    integer_between,
    param_dict,
    parse,
    path_id,
    text,
)
from .store.base import Store
from .tax_id_types import TAX_ID_TYPES, country_of, value_fits, verification_status

if TYPE_CHECKING:
    from .events.recording import RequestInfo
    from .service import CustomerService

__all__ = [
    "DeletedTaxId",
    "TaxId",
    "TaxIdList",
    "TaxIdOperation",
    "TaxIdService",
    "check_value",
    "no_such_tax_id",
]

EMBEDDED_LIMIT = 10
"""How many tax IDs ``expand=["tax_ids"]`` shows on a customer (the rest: ``has_more``)."""


# --- the objects ---------------------------------------------------------------------------


class TaxIdOwner(_Model):
    customer: str | dict[str, Any]
    customer_account: str | None = None
    type: Literal["customer"] = "customer"


class TaxIdVerification(_Model):
    status: Literal["pending", "unavailable", "unverified", "verified"]
    verified_address: str | None = None
    verified_name: str | None = None


class TaxId(_Model):
    """A customer's tax ID (Stripe's ``tax_id`` object, API version 2026-09-30)."""

    id: str
    object: Literal["tax_id"] = "tax_id"
    country: str | None
    created: int
    customer: str | dict[str, Any]
    customer_account: str | None = None
    livemode: bool = False
    owner: TaxIdOwner
    type: str
    value: str
    verification: TaxIdVerification


class DeletedTaxId(_Model):
    """What deleting a tax ID returns: ``{id, object: "tax_id", deleted: true}``."""

    id: str
    object: Literal["tax_id"] = "tax_id"
    deleted: Literal[True] = True


class TaxIdList:
    """One page of ``GET /v1/customers/{customer}/tax_ids``: ``{object: "list", url,
    has_more, data}``. ``to_dict()`` hands out the records it was built from."""

    object: ClassVar[str] = "list"
    __slots__ = ("_records", "has_more", "url")

    def __init__(self, customer_id: str, records: list[Record], has_more: bool) -> None:
        self._records = records
        self.has_more = has_more
        self.url = f"/v1/customers/{customer_id}/tax_ids"

    @property
    def data(self) -> list[TaxId]:
        """The tax IDs on this page, newest first."""
        return [TaxId.model_validate(record) for record in self._records]

    def __iter__(self) -> Iterator[TaxId]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self._records)

    def to_dict(self) -> dict[str, Any]:
        """Return Stripe's JSON body of this page."""
        return {
            "object": self.object,
            "url": self.url,
            "has_more": self.has_more,
            "data": self._records,
        }

    def to_json(self, *, indent: int | None = None) -> bytes:
        """Return Stripe's JSON body as bytes (``indent=2``: pretty-printed, as Stripe sends it)."""
        return pydantic_core.to_json(self.to_dict(), indent=indent)


# --- params and checks -----------------------------------------------------------------------

_Cursor = Annotated[str | None, PlainValidator(text(clearable=False))]


class TaxIdCreateParams(_Params):
    """Parameters of ``POST /v1/customers/{customer}/tax_ids``."""

    expand: Expand = ()
    type: Annotated[str, PlainValidator(enum(*TAX_ID_TYPES))]
    value: TaxIdValue


class TaxIdRetrieveParams(_Params):
    """Parameters of ``GET /v1/customers/{customer}/tax_ids/{id}``."""

    expand: Expand = ()


class TaxIdListParams(_Params):
    """Parameters of ``GET /v1/customers/{customer}/tax_ids``."""

    ending_before: _Cursor = None
    expand: Expand = ()
    limit: Annotated[int, PlainValidator(integer_between(1, 100))] = 10
    starting_after: _Cursor = None


def check_value(tax_id_type: str, value: str, param: str) -> None:
    """Refuse a value that does not have its type's format, as Stripe does."""
    if not value_fits(tax_id_type, value):
        raise InvalidRequestError(
            f"Invalid value for {tax_id_type}.", code="tax_id_invalid", param=param
        )


def no_such_tax_id(
    tax_id: str, *, param: str = "id", http_status: int = 404
) -> InvalidRequestError:
    """Stripe's ``No such tax id: 'txi_x'`` (404 for a path id, 400 for a cursor)."""
    return InvalidRequestError(
        f"No such tax id: '{tax_id}'", code="resource_missing", param=param, http_status=http_status
    )


_EXPANDABLE = frozenset({"customer", "owner.customer"})


def _expansions(paths: Sequence[str], *, prefix: str = "") -> frozenset[str]:
    """Check the ``expand`` paths of a tax ID endpoint; return the fields to expand."""
    wanted = set()
    for path in paths:
        error = too_deep(path)
        if error is not None:
            raise error
        local = path
        if prefix:
            check_list_path(path)
            head, _, local = path.partition(".")
            if head != prefix or not local:
                raise cannot_expand(head if head != prefix else path)
        if local not in _EXPANDABLE:
            segments = local.split(".")
            good = 1 if segments[0] == "owner" and len(segments) > 1 else 0
            raise cannot_expand(".".join([prefix] * bool(prefix) + segments[: good + 1]))
        wanted.add(local)
    return frozenset(wanted)


TaxIdOperation = Literal["create", "retrieve", "delete", "list"]


class TaxIdService:
    """A customer's tax IDs with Stripe's semantics: ``svc.tax_ids`` of a CustomerService.

    Methods mirror the SDK's ``client.v1.customers.tax_ids``: the customer id (and the tax
    id) come first, positionally; params are keywords with Stripe's names. It is part of
    its CustomerService and uses the service's own internals: ``_idempotent`` (create),
    ``_atomically`` (delete's write block with its event), ``_clock`` and ``ids``.
    """

    def __init__(self, customers: CustomerService) -> None:
        self._customers = customers

    @property
    def _store(self) -> Store:
        return self._customers.store

    def execute(
        self,
        operation: TaxIdOperation,
        params: Mapping[str, Any] | None = None,
        *,
        customer: str,
        id: str | None = None,
        idempotency_key: str | None = None,
    ) -> TaxId | DeletedTaxId | TaxIdList:
        """Run one operation with its params as a mapping and return its result.
        ``create`` honours ``idempotency_key`` like customer create."""
        outcome = self.perform(
            operation, params, customer=customer, id=id, idempotency_key=idempotency_key
        )
        return outcome.result  # type: ignore[return-value]

    def perform(
        self,
        operation: TaxIdOperation,
        params: Mapping[str, Any] | None = None,
        *,
        customer: str,
        id: str | None = None,
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ) -> Outcome:
        """``execute``, also telling whether the result replays an earlier request with
        the same idempotency key: the entry point for wrappers. ``request_id`` (the HTTP
        Request-Id) and the idempotency key go into the ``request`` of the events the
        operation records."""
        params = param_dict(params)
        customer_id = path_id(customer, "customer", "cus_...")
        request = request_info(request_id, idempotency_key)
        if operation == "create":
            return self._customers._idempotent(
                f"/v1/customers/{customer_id}/tax_ids",
                idempotency_key,
                params,
                lambda: self._prepare_create(customer_id, params, request),
                TaxId,
            )
        if operation == "list":
            return Outcome(self._list(customer_id, params))
        tax_id = path_id(id, "id", "txi_...")
        if operation == "retrieve":
            return Outcome(self._retrieve(customer_id, tax_id, params))
        if operation == "delete":
            return Outcome(self._delete(customer_id, tax_id, params, request))
        msg = f"Unknown tax ID operation {operation!r}; expected create, retrieve, delete or list."
        raise InvalidRequestError(msg)

    def create(
        self, customer: str, /, *, idempotency_key: str | None = None, **params: Any
    ) -> TaxId:
        """Add a tax ID to a live customer (``POST /v1/customers/{customer}/tax_ids``)."""
        return self.execute("create", params, customer=customer, idempotency_key=idempotency_key)  # type: ignore[return-value]

    def retrieve(self, customer: str, id: str, /, **params: Any) -> TaxId:
        """Return one of the customer's tax IDs; another customer's is a 404."""
        return self.execute("retrieve", params, customer=customer, id=id)  # type: ignore[return-value]

    def delete(
        self, customer: str, id: str, /, *, idempotency_key: str | None = None, **params: Any
    ) -> DeletedTaxId:
        """Delete one of the customer's tax IDs for good (``idempotency_key``: as on a
        customer's delete, recorded in the event's ``request`` and otherwise ignored)."""
        return self.execute(  # type: ignore[return-value]
            "delete", params, customer=customer, id=id, idempotency_key=idempotency_key
        )

    def list(self, customer: str, /, **params: Any) -> TaxIdList:
        """Return a page of the customer's tax IDs, newest first (``limit``,
        ``starting_after``, ``ending_before`` as on every Stripe list)."""
        return self.execute("list", params, customer=customer)  # type: ignore[return-value]

    # --- for CustomerService ----------------------------------------------------------------

    def check_data(self, tax_id_data: Sequence[Mapping[str, Any]]) -> None:
        """Check the values of customer create's ``tax_id_data`` (types were parsed)."""
        for index, item in enumerate(tax_id_data):
            check_value(item["type"], item["value"], f"tax_id_data[{index}][value]")

    def insert_data(
        self, customer: Record, tax_id_data: Sequence[Mapping[str, Any]]
    ) -> Sequence[Record]:
        """Store the tax IDs of customer create's ``tax_id_data`` (inside its transaction);
        return their records."""
        records: list[Record] = []
        for item in tax_id_data:
            record = self._new_record(customer["id"], item["type"], item["value"])
            record["created"] = customer["created"]
            self._store.insert_tax_id(record)
            records.append(record)
        return records

    def record_events(
        self, event_type: str, records: Sequence[Record], request: RequestInfo
    ) -> None:
        """Record a ``customer.tax_id.*`` event of each tax ID (its JSON form, never
        expanded), inside the caller's write; nothing when events are off."""
        events = self._customers.events
        if events.enabled:
            for record in records:
                events.record(event_type, dict(record), request)

    def embedded(self, customer: Record, expand: frozenset[str]) -> dict[str, Any]:
        """The customer's ``tax_ids`` list for ``expand=["tax_ids"]``; ``expand`` may hold
        ``customer`` or ``owner.customer`` for its items."""
        customer_id = customer["id"]
        records, has_more = trim_page(
            self._store.tax_ids(customer_id, limit=EMBEDDED_LIMIT + 1), EMBEDDED_LIMIT, True
        )
        return {
            "object": "list",
            "data": [self._expanded(record, expand, customer) for record in records],
            "has_more": has_more,
            "url": f"/v1/customers/{customer_id}/tax_ids",
        }

    # --- operations ---------------------------------------------------------------------------

    def _new_record(self, customer_id: str, tax_id_type: str, value: str) -> Record:
        return {
            "id": self._customers.ids.tax_id(),
            "object": "tax_id",
            "country": country_of(tax_id_type, value),
            "created": int(self._customers._clock()),
            "customer": customer_id,
            "customer_account": None,
            "livemode": False,
            "owner": {"customer": customer_id, "customer_account": None, "type": "customer"},
            "type": tax_id_type,
            "value": value,
            "verification": {
                "status": verification_status(tax_id_type),
                "verified_address": None,
                "verified_name": None,
            },
        }

    def _prepare_create(
        self, customer_id: str, params: dict[str, Any], request: RequestInfo
    ) -> Callable[[], TaxId]:
        p = parse(TaxIdCreateParams, params)
        check_value(p.type, p.value, "value")
        wanted = _expansions(p.expand)
        return lambda: self._create(customer_id, p.type, p.value, wanted, request)

    def _create(
        self,
        customer_id: str,
        tax_id_type: str,
        value: str,
        wanted: frozenset[str],
        request: RequestInfo,
    ) -> TaxId:
        record = self._new_record(customer_id, tax_id_type, value)
        try:
            self._store.insert_tax_id(record)
        except RecordNotFoundError:
            raise no_such_customer(customer_id, param="customer") from None
        self.record_events("customer.tax_id.created", [record], request)
        return TaxId.model_validate(self._expanded(record, wanted))

    def _retrieve(self, customer_id: str, tax_id: str, params: dict[str, Any]) -> TaxId:
        wanted = _expansions(parse(TaxIdRetrieveParams, params).expand) if params else frozenset()
        record = self._owned(customer_id, tax_id)
        return TaxId.model_validate(self._expanded(record, wanted))

    def _delete(
        self, customer_id: str, tax_id: str, params: dict[str, Any], request: RequestInfo
    ) -> DeletedTaxId:
        parse(NoParams, params)

        def delete() -> None:
            with self._store.transaction():
                record = self._owned(customer_id, tax_id)
                self._store.delete_tax_id(tax_id)
                # The tax ID as it was, as customer.deleted carries the customer.
                self.record_events("customer.tax_id.deleted", [record], request)

        self._customers._atomically(delete)
        return DeletedTaxId(id=tax_id)

    def _list(self, customer_id: str, params: dict[str, Any]) -> TaxIdList:
        p = parse(TaxIdListParams, params)
        wanted = _expansions(p.expand, prefix="data")
        self._live_customer(customer_id)

        def sort_key(tax_id: str) -> tuple[int, str] | None:
            record = self._store.get_tax_id(tax_id)
            if record is None or record["customer"] != customer_id:
                return None
            return record["created"], record["id"]

        key_range, descending = cursor_range(
            p.starting_after,
            p.ending_before,
            sort_key,
            lambda cursor, param: no_such_tax_id(cursor, param=param, http_status=400),
        )
        records, has_more = trim_page(
            self._store.tax_ids(customer_id, key_range, descending=descending, limit=p.limit + 1),
            p.limit,
            descending,
        )
        return TaxIdList(customer_id, [self._expanded(r, wanted) for r in records], has_more)

    def _live_customer(self, customer_id: str) -> Record:
        customer = self._store.get(customer_id)
        if customer is None:
            raise no_such_customer(customer_id, param="customer")
        return customer

    def _owned(self, customer_id: str, tax_id: str) -> Record:
        """The tax ID record, if both the customer and this tax ID of it exist."""
        self._live_customer(customer_id)
        record = self._store.get_tax_id(tax_id)
        if record is None or record["customer"] != customer_id:
            raise no_such_tax_id(tax_id)
        return record

    def _expanded(
        self, record: Record, wanted: frozenset[str], customer: Record | None = None
    ) -> Record:
        """The record with ``customer`` and/or ``owner.customer`` replaced by the customer."""
        if not wanted:
            return record
        if customer is None:
            customer = self._live_customer(record["customer"])
        body = Customer.model_validate(customer).to_dict()
        if "customer" in wanted:
            record["customer"] = body
        if "owner.customer" in wanted:
            record["owner"] = {**record["owner"], "customer": body}
        return record
