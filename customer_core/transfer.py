"""Import and export of customers as JSON lines (the format: docs/transfer.md).

An export is a header line naming the format and its version, then every live customer
exactly as the API returns it, their tax IDs, the tombstones of deleted customers, the
invoice prefixes customers hold besides the ones on those lines, and an end line. It streams from one consistent
store snapshot (``Store.read_snapshot``), so memory stays flat whatever the store's size.

An import reads such a file, or customers as Stripe returns them (one object a line, or
list pages such as ``stripe customers list`` prints), checks every value's JSON type
strictly (``import_wording``), then every customer with the service's own parameter
validators (params.py: formats, lengths, metadata limits), and writes everything in one store transaction, in chunks
through ``Store.insert_many``: a bad line, a conflict or an interruption leaves the
store as it was. Imports write through the store, not the service's create: ids,
``created`` and every other field are kept as given, and no events are produced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import io
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Annotated, Any, Literal

import pydantic_core
from pydantic import (
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WrapValidator,
)
from pydantic_core import PydanticCustomError, PydanticKnownError
from typing_extensions import Required, TypedDict

from .canonical_line import canonical_record
from .errors import (
    DuplicateKeyError,
    InvalidRequestError,
    RecordNotFoundError,
    invoice_prefix_in_use,
)
from .export_target import export_file
from .ids import CUSTOMER_ID_PATTERN, TAX_ID_PATTERN
from .import_wording import NotJson, describe, parse_json, shown_briefly
from .integers import INT64_MAX
from .models import Customer, Record
from .params import (
    CustomerCreateParams,
    ShippingParams,
    Text,
    integer_between,
    parse,
    shown,
)
from .service import CustomerService
from .store.base import Store, StoreSnapshot
from .store.sqlite import SQLiteStore
from .store.sqlite_exclusive import held_exclusively
from .store.sqlite_new_file import new_sqlite_file
from .tax_ids import TaxId, TaxIdCreateParams, check_value

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ExportResult",
    "ImportResult",
    "TransferError",
    "export_customers",
    "import_customers",
    "import_into_new_file",
]

FORMAT = "customer_core.customers"
FORMAT_VERSION = 1
API_VERSION = "2026-09-30"
PREFIX_OBJECT = "customer_core.invoice_prefix"
END_OBJECT = "customer_core.end"

Order = Literal["newest", "oldest"]
OnConflict = Literal["error", "skip", "replace"]

_CHUNK = 2000
_WRITE_BATCH = 1000


class TransferError(InvalidRequestError):
    """A line of an import that cannot be imported: where (``line``, or ``item`` of a
    JSON document), which field (``param``) and why (``reason``)."""

    def __init__(
        self,
        reason: str,
        *,
        line: int | None,
        param: str | None = None,
        item: str | None = None,
        code: str | None = None,
        remedy: tuple[str, str] | None = None,
    ) -> None:
        field = f": {param}" if param else ""
        told = f"{_where(line, item)}{field}: {reason}"
        super().__init__(f"{told}; {remedy[0]}" if remedy else told, param=param, code=code)
        self.line = line
        self.item = item
        self.reason = reason
        self.command_line_message = f"{told}; {remedy[1]}" if remedy else self.message
        """The message as ``customer-core import`` shows it: a remedy names its options."""


def _where(line: int | None, item: str | None) -> str:
    """Where a value is: ``line 3``, ``document.data[2]`` or ``line 3, data[2]``."""
    return f"line {line}" if item is None else item if line is None else f"line {line}, {item}"


_CONFLICT_REMEDY = (
    'pass on_conflict="skip" or on_conflict="replace" to import over it',
    "pass --on-conflict skip or --on-conflict replace to import over it",
)


# --- what an imported line may hold --------------------------------------------------


def _rule(message: str) -> PydanticCustomError:
    """A validation failure worded as it will be shown (``params.translate`` kind "stripe")."""
    return PydanticCustomError("stripe", "stripe", {"message": message})


def _customer_id(value: object) -> str:
    if not isinstance(value, str) or not CUSTOMER_ID_PATTERN.fullmatch(value):
        raise _rule(f"Invalid customer id: {value!r} (expected cus_ and letters or digits)")
    return value


def _json_string(value: object) -> object:
    """A string field of a Stripe object holds a JSON string (or null), never a number:
    refused before a param's validator, which would read ``1`` as ``"1"``."""
    if value is not None and value.__class__ is not str:
        raise PydanticKnownError("string_type")
    return value


def _json_integer(value: object) -> object:
    """An integer field holds a JSON integer, never ``"12"`` (which a param may be)."""
    if value.__class__ is not int:
        raise PydanticKnownError("int_type")
    return value


CustomerId = Annotated[str, PlainValidator(_customer_id)]
_created = integer_between(0, INT64_MAX)
Created = Annotated[int, PlainValidator(_created), BeforeValidator(_json_integer)]


def _param(name: str) -> Any:
    """The annotated type of a create param: its validators are the service's rules."""
    field = CustomerCreateParams.model_fields[name]
    return Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation


def _null_allowed(value: object, handler: Callable[[object], object]) -> object:
    # A customer object may hold null where the create param refuses "": keep it null.
    return None if value is None else handler(value)


class _ImportedShipping(ShippingParams, total=False):
    """Shipping as a customer holds it: the create param's fields and rules, plus the two
    the API returns (set by Stripe's shipping integrations)."""

    carrier: Text
    tracking_number: Text


# Fields that are create params take the param's validators (formats, lengths, limits);
# fields only Stripe sets (currency, discount, livemode, ...) the Customer model's types.
_RULED = (
    (set(CustomerCreateParams.model_fields) & set(Customer.model_fields))
    - Customer.INCLUDABLE
    - {"test_clock"}
)
_fields: dict[str, Any] = {}
for _name, _field in Customer.model_fields.items():
    if _name in _RULED:
        _fields[_name] = _param(_name)
    elif _field.metadata:
        _fields[_name] = Annotated[(_field.annotation, *_field.metadata)]
    else:
        _fields[_name] = _field.annotation
_fields.update(
    id=Required[CustomerId],
    created=Required[Created],
    invoice_prefix=Annotated[_param("invoice_prefix"), WrapValidator(_null_allowed)],
    preferred_locales=Annotated[_param("preferred_locales"), WrapValidator(_null_allowed)],
    shipping=Annotated[_ImportedShipping | None, WrapValidator(_null_allowed)],
)
_ImportedCustomer = TypedDict("_ImportedCustomer", _fields, total=False)  # type: ignore[misc]
_ImportedCustomer.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
_CUSTOMER = TypeAdapter(_ImportedCustomer)


_Prefix: Any = Annotated[_param("invoice_prefix"), BeforeValidator(_json_string)]


class _Tombstone(TypedDict, total=False):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    id: Required[CustomerId]
    object: Required[Literal["customer"]]
    deleted: Required[Literal[True]]
    created: Required[Created]
    invoice_prefix: Annotated[_Prefix, WrapValidator(_null_allowed)]


class _Reservation(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    object: Literal["customer_core.invoice_prefix"]
    customer: CustomerId
    invoice_prefix: _Prefix


class _Header(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    format: Literal["customer_core.customers"]
    version: int
    api_version: str


class _End(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    object: Literal["customer_core.end"]
    customers: int
    tax_ids: int
    deleted_customers: int
    invoice_prefixes: int


_TOMBSTONE = TypeAdapter(_Tombstone)
_END = TypeAdapter(_End)
_RESERVATION = TypeAdapter(_Reservation)
_HEADER = TypeAdapter(_Header)


def _not_json(error: NotJson, line: int | None, item: str | None = None) -> TransferError:
    """ "not valid JSON" with one line number, the file's: the parser counts lines from the
    start of what it read (one line, or a whole document starting at ``line``)."""
    if line is not None:
        line += error.line_offset
    return TransferError(error.reason, line=line, item=item)


def _document(first: bytes, source: IO[bytes], line: int) -> Any:
    """The input read whole as one JSON document, from its first line on (``line``); an
    error names the file's line (no line ending is added after a last line: a document cut
    short is "EOF while parsing", on its own line)."""
    rest = source.read()
    return _parsed(first + b"\n" + rest if rest.strip() else first, line)


def _parsed(text: bytes, line: int | None) -> Any:
    try:
        return parse_json(text)
    except NotJson as error:
        raise _not_json(error, line) from None


def _problem(
    error: ValidationError, line: int | None, item: str | None, kind_of: str = "customer"
) -> TransferError:
    stripe_object = kind_of in ("customer", "deleted customer", "tax ID")
    param, reason = describe(error, kind_of, API_VERSION if stripe_object else None)
    return TransferError(reason, line=line, param=param, item=item)


# --- export --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    customers: int
    tax_ids: int
    deleted_customers: int
    invoice_prefixes: int


def _line(value: dict[str, Any]) -> bytes:
    return pydantic_core.to_json(value) + b"\n"


def _tombstone_lines(snapshot: StoreSnapshot) -> Iterator[bytes]:
    """Tombstones by id, each with its first reserved prefix (prefixes are by id too)."""
    former = snapshot.former_invoice_prefixes()
    pending = next(former, None)
    for customer_id, created in snapshot.tombstones():
        while pending is not None and pending[0] < customer_id:
            pending = next(former, None)
        prefix = None
        if pending is not None and pending[0] == customer_id:
            prefix = pending[1]
        stub = {"id": customer_id, "object": "customer", "deleted": True}
        yield _line({**stub, "created": created, "invoice_prefix": prefix})


def _reservation_lines(snapshot: StoreSnapshot) -> Iterator[bytes]:
    """Reserved prefixes no customer or tombstone line carries (each tombstone's first)."""
    tombstones = (customer_id for customer_id, _ in snapshot.tombstones())
    tombstone = next(tombstones, None)
    previous = None
    for customer_id, prefix in snapshot.former_invoice_prefixes():
        while tombstone is not None and tombstone < customer_id:
            tombstone = next(tombstones, None)
        first = customer_id != previous
        previous = customer_id
        if first and tombstone == customer_id:
            continue
        yield _line({"object": PREFIX_OBJECT, "customer": customer_id, "invoice_prefix": prefix})


def export_customers(
    store: Store | CustomerService,
    target: IO[bytes] | str | os.PathLike[str],
    *,
    order: Order = "newest",
    progress: bool = False,
) -> ExportResult:
    """Write every customer, tombstone and reserved invoice prefix of ``store`` to
    ``target`` (a binary file or a path) as JSON lines, from one consistent snapshot.

    ``order`` puts customers newest first (Stripe's list order) or oldest first;
    ``progress`` shows a progress bar on stderr if stderr is a terminal.
    """
    if order not in ("newest", "oldest"):
        msg = f"Invalid order: {order!r} (expected 'newest' or 'oldest')"
        raise InvalidRequestError(msg, param="order")
    if isinstance(store, CustomerService):
        store = store.store
    if isinstance(target, (str, os.PathLike)):
        with export_file(target, store) as file:
            result = export_customers(store, file, order=order, progress=progress)
        return result
    counts = {"customer": 0, "tax_id": 0, "tombstone": 0, "prefix": 0}
    with _collector_paused(), store.read_snapshot() as snapshot:
        bar = Progress("customers", total=snapshot.count()) if progress else None
        header = {"format": FORMAT, "version": FORMAT_VERSION, "api_version": API_VERSION}
        target.write(_line(header))
        batch: list[bytes] = []
        for text in snapshot.records_json(descending=order == "newest"):
            batch.append(text)
            if len(batch) >= _WRITE_BATCH:
                target.write(b"\n".join(batch) + b"\n")
                counts["customer"] += len(batch)
                batch.clear()
                if bar is not None:
                    bar.update(counts["customer"])
        if batch:
            target.write(b"\n".join(batch) + b"\n")
            counts["customer"] += len(batch)
        for kind, lines in (
            ("tax_id", (_line(record) for record in snapshot.tax_ids())),
            ("tombstone", _tombstone_lines(snapshot)),
            ("prefix", _reservation_lines(snapshot)),
        ):
            for line in lines:
                target.write(line)
                counts[kind] += 1
        result = ExportResult(*counts.values())
        # The last line says what came before it: an import can tell a file cut short.
        target.write(_line({"object": END_OBJECT, **dataclasses.asdict(result)}))
        if bar is not None:
            bar.finish(counts["customer"])
    target.flush()
    return result


# --- import --------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did, line kind by line kind: what it added, what it overwrote
    (``on_conflict="replace"``) and what it left as the store held it (``"skip"``, or a
    deleted customer or reserved prefix the store already had)."""

    created: int = 0
    """Customers added."""
    replaced: int = 0
    """Customers overwritten."""
    skipped: int = 0
    """Customer lines whose id the store (or the file, earlier) held, left as they were."""
    tax_ids: int = 0
    """Tax IDs added."""
    deleted_customers: int = 0
    """Deleted customers added (or live ones deleted, with ``"replace"``)."""
    invoice_prefixes: int = 0
    """Former invoice prefixes newly reserved."""
    tax_ids_replaced: int = 0
    tax_ids_skipped: int = 0
    deleted_customers_skipped: int = 0
    """Deleted-customer lines the store already held deleted (or live, with ``"skip"``)."""
    invoice_prefixes_skipped: int = 0
    """Former invoice prefix lines the store already held reserved for that customer."""
    has_more: bool = False
    """Whether the file holds a list page that says ``has_more: true`` and no page that
    ends the list (``has_more: false``): Stripe held more customers than the file, so
    the import holds only part of them. The CLI warns on stderr; ``warnings`` says
    where, and which page to fetch next."""
    warnings: list[str] = dataclasses.field(default_factory=list)
    """What the import found worth telling but not refusing, worded for a person (each
    names its line): today, a list page with ``has_more: true`` (see ``has_more``)."""


_Pending = tuple[Record, int | None, str | None, bool]
"""A customer waiting for its chunk: record, line, item, whether its prefix was made here."""


class _Importer:
    def __init__(self, service: CustomerService, on_conflict: OnConflict) -> None:
        self.service = service
        self.store = service.store
        self.on_conflict = on_conflict
        self.result = ImportResult()
        self.chunk: list[_Pending] = []
        # Lines read, to check against the counts of an export's end line.
        self.seen = {"customers": 0, "tax_ids": 0, "deleted_customers": 0, "invoice_prefixes": 0}
        self.tax_ids: list[tuple[Record, int | None, str | None]] = []
        self.header = False
        self.ended = False
        # The last list page read that says has_more: true (its warning), and whether a
        # page that ends a list (has_more: false) was read.
        self.more: str | None = None
        self.list_ended = False

    # --- dispatch ------------------------------------------------------------------

    def lines(
        self, numbered: Iterator[tuple[int, bytes]], source: IO[bytes], bar: Progress | None
    ) -> None:
        """Read every line after the first. Customers written as an export writes them (a
        line starting with their id) are validated straight from the bytes as read (JSON
        ignores the line ending), in this loop: an import reads millions of them. Any
        other line (a deleted customer's too: the fast check refuses its "deleted") is
        stripped, parsed, then dispatched (``line``), and the full check converts it or
        words its error."""
        seen, add, done = self.seen, self.add, 0
        for number, text in numbered:
            record = (
                canonical_record(text)
                if text.startswith(_EXPORTED_CUSTOMER) and not self.ended
                else None
            )
            if record is not None:
                seen["customers"] += 1
                add(record, number, None, generated=False)
            else:
                text = text.strip()
                if not text:
                    continue
                self.line(text, number)
            if bar is not None:
                done += 1
                if not done % 1000:
                    bar.update(done, _position(source))

    def line(self, text: bytes, number: int) -> None:
        """Dispatch a line (stripped) that the fast check did not take."""
        if self.ended:
            raise TransferError("nothing may follow the export's end line", line=number)
        self.value(_parsed(text, number), number, None)

    def value(self, value: object, line: int | None, item: str | None) -> None:
        if not isinstance(value, dict):
            reason = "expected a JSON object (a customer, a list page or a deleted customer)"
            raise TransferError(reason, line=line, item=item)
        kind = value.get("object")
        if kind in ("list", "search_result") and isinstance(value.get("data"), list):
            for index, entry in enumerate(value["data"]):
                where = f"data[{index}]" if item is None else f"{item}.data[{index}]"
                self.value(entry, line, where)
            self.page_read(value, line, item)
            return
        what = "customer"
        try:
            if "format" in value:
                raise TransferError(
                    "a header line is only allowed as the first line", line=line, item=item
                )
            if kind == END_OBJECT:
                what = "end line"
                if not self.header or item is not None:
                    reason = (
                        "an export's end line, but the file has no header line "
                        "(an export starts with one)"
                    )
                    raise TransferError(reason, line=line, item=item)
                self.end(_END.validate_python(value, strict=True), line)
            elif value.get("deleted") is True:
                what = "deleted customer"
                self.tombstone(_TOMBSTONE.validate_python(value, strict=True), line, item)
            elif kind == PREFIX_OBJECT:
                what = "former invoice prefix line"
                self.reservation(_RESERVATION.validate_python(value, strict=True), line, item)
            elif kind == "tax_id":
                self.seen["tax_ids"] += 1
                self.tax_id(value, line, item)
            else:
                if not _EARLIER_FIELDS.keys().isdisjoint(value):
                    value = _as_current(value, line, item)
                value = _unexpanded(value, line, item)
                # The object's JSON types strictly, then the service's rules.
                Customer.model_validate(value, strict=True)
                self.customer(_CUSTOMER.validate_python(value), line, item)
        except ValidationError as error:
            raise _problem(error, line, item, what) from None

    def page_read(self, page: dict[str, Any], line: int | None, item: str | None) -> None:
        """Note whether a list page leaves customers out (``has_more: true``), and what
        fetches the next page: ``starting_after`` its last customer for a list page,
        ``page`` its ``next_page`` for a search result."""
        has_more = page.get("has_more")
        if has_more is False:
            self.list_ended = True
        if has_more is not True:
            return
        data = page["data"]
        last = data[-1].get("id") if data and isinstance(data[-1], dict) else None
        if page.get("object") == "search_result" and isinstance(page.get("next_page"), str):
            fetch = f"search again with page={page['next_page']}"
        elif isinstance(last, str):
            fetch = (
                f"list them with starting_after={last} (its last customer), for example "
                f"`stripe customers list --starting-after {last}`"
            )
        else:
            fetch = "fetch the next pages"
        where = "the file" if line is None and item is None else _where(line, item)
        self.more = (
            f"{where}: a list page of {len(data)} customers says has_more: true, and no page "
            "in the file ends the list (has_more: false): Stripe holds more customers than "
            f"the file, so only part of them were imported; {fetch}, and import those too"
        )

    def end(self, values: Any, line: int | None) -> None:
        expected = {name: values[name] for name in self.seen}
        if expected != self.seen:
            reason = f"the export's end line counts {expected}, but the file holds {self.seen}"
            raise TransferError(reason, line=line)
        self.ended = True

    def finish(self) -> None:
        self.flush()
        if self.more is not None and not self.list_ended:
            self.result.has_more = True
            self.result.warnings.append(self.more)
        if self.header and not self.ended:
            reason = (
                "the file ends before the export's end line: it was cut short "
                "(an export always ends with one)"
            )
            raise TransferError(reason, line=None, item="end of file")

    # --- customers -----------------------------------------------------------------

    def customer(self, values: Any, line: int | None, item: str | None) -> None:
        self.seen["customers"] += 1
        _test_mode(values, line, item)
        discount = values.get("discount")
        if discount is not None and (
            discount.get("object") != "discount" or discount.get("id").__class__ is not str
        ):
            reason = (
                f"Invalid discount: {shown_briefly(discount)}; expected null or a Stripe discount "
                'object ({"id": "di_...", "object": "discount", ...})'
            )
            raise TransferError(reason, line=line, param="discount", item=item)
        embedded = values.get("tax_ids")
        try:
            record = CustomerService.stored_record(values)
        except InvalidRequestError as error:  # the metadata key limit, checked by merge
            raise TransferError(error.message, line=line, param=error.param, item=item) from None
        if embedded is not None:  # expand=["tax_ids"]: the customer's (first ten) tax IDs
            if embedded.get("has_more") is True:
                listed = len(embedded.get("data") or ())
                reason = (
                    f"the customer's tax_ids list holds only the first {listed} "
                    "of its tax IDs (has_more: true): give them all as tax ID lines of their "
                    "own, or set has_more to false to import only these"
                )
                param = "tax_ids.has_more"
                raise TransferError(reason, line=line, param=param, item=item)
            for index, tax_id in enumerate(embedded.get("data") or ()):
                where = (
                    f"tax_ids.data[{index}]" if item is None else f"{item}.tax_ids.data[{index}]"
                )
                self.tax_id(tax_id, line, where)
        generated = record["invoice_prefix"] is None
        if generated:
            # Every customer has a prefix: a missing one is made as create makes it.
            record["invoice_prefix"] = self.service.ids.invoice_prefix()
        self.add(record, line, item, generated=generated)

    def add(self, record: Record, line: int | None, item: str | None, *, generated: bool) -> None:
        """Queue a checked customer's record for its chunk's ``insert_many``."""
        self.chunk.append((record, line, item, generated))
        if len(self.chunk) >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        chunk, self.chunk = self.chunk, []
        if chunk:
            self.insert(chunk)
        tax_ids, self.tax_ids = self.tax_ids, []
        for record, line, item in tax_ids:  # after their customers
            self.insert_tax_id(record, line, item)

    def insert(self, chunk: list[_Pending]) -> None:
        try:
            self.store.insert_many([pending[0] for pending in chunk])
        except DuplicateKeyError:
            # insert_many added nothing: take the chunk one customer at a time to find,
            # and word, each conflict (or skip or replace it, as asked).
            for pending in chunk:
                self.one(*pending)
        else:
            self.result.created += len(chunk)

    def one(self, record: Record, line: int | None, item: str | None, generated: bool) -> None:
        customer_id = record["id"]
        existing = self.store.sort_key(customer_id)
        try:
            if existing is None:
                # The service's own insert: it makes a new prefix when a made one is
                # taken, and words a given one that is taken as create would.
                self.service.insert_record(record, generate_prefix=generated)
                self.result.created += 1
            elif self.replaceable(customer_id, existing[0], record["created"], line, item):
                current = self.store.get(customer_id)
                if generated and current is not None:
                    record["invoice_prefix"] = current["invoice_prefix"]
                try:
                    self.store.replace(record)
                except DuplicateKeyError as error:
                    raise invoice_prefix_in_use(error.value) from None
                self.result.replaced += 1
        except TransferError:
            raise
        except InvalidRequestError as error:
            raise TransferError(error.message, line=line, param=error.param, item=item) from None
        except DuplicateKeyError as error:
            raise self.taken(customer_id, line, item) from error

    def replaceable(
        self,
        customer_id: str,
        created: int,
        new_created: int,
        line: int | None,
        item: str | None,
        *,
        tombstone: bool = False,
    ) -> bool:
        """Whether an existing customer is to be replaced by a customer (or ``tombstone``)
        line (False: skipped); raise if the conflict cannot be settled as asked."""
        if self.on_conflict == "error":
            raise self.taken(customer_id, line, item)
        if self.on_conflict == "skip":
            if tombstone:
                self.result.deleted_customers_skipped += 1
            else:
                self.result.skipped += 1
            return False
        if self.store.is_deleted(customer_id):
            reason = (
                f"customer {customer_id} was deleted, and a deleted customer's id is never "
                "used again, so it cannot be replaced"
            )
            raise TransferError(reason, line=line, param="id", item=item)
        if created != new_created:
            reason = (
                f"customer {customer_id} exists with created={created}, not {new_created}; "
                "a customer's created never changes, so it cannot be replaced"
            )
            raise TransferError(reason, line=line, param="created", item=item)
        return True

    @staticmethod
    def taken(
        customer_id: str, line: int | None, item: str | None, kind: str = "customer"
    ) -> TransferError:
        reason = f"{kind} {customer_id} already exists (in the store or earlier in the file)"
        return TransferError(
            reason,
            line=line,
            param="id",
            item=item,
            code="resource_already_exists",
            remedy=_CONFLICT_REMEDY,
        )

    # --- tax IDs -------------------------------------------------------------------

    def tax_id(self, value: Any, line: int | None, item: str | None) -> None:
        """Check a TaxId object with the tax ID service's rules; it is inserted once the
        customers before it are (``flush``)."""
        try:
            tax_id = TaxId.model_validate(_customer_owned(value, line, item), strict=True)
        except ValidationError as error:
            raise _problem(error, line, item, "tax ID") from None
        record = tax_id.to_dict()
        _test_mode(record, line, item)
        try:
            for name, pattern in (("id", TAX_ID_PATTERN), ("customer", CUSTOMER_ID_PATTERN)):
                if not isinstance(record[name], str) or not pattern.fullmatch(record[name]):
                    raise InvalidRequestError(f"Invalid {name}: {record[name]!r}", param=name)
            if record["owner"]["customer"] != record["customer"]:
                msg = "owner.customer must be the tax ID's customer"
                raise InvalidRequestError(msg, param="owner[customer]")
            try:
                _created(record["created"])
            except PydanticCustomError as error:
                raise InvalidRequestError(error.message(), param="created") from None
            parse(TaxIdCreateParams, {"type": record["type"], "value": record["value"]})
            check_value(record["type"], record["value"], "value")
        except InvalidRequestError as error:
            raise TransferError(error.message, line=line, param=error.param, item=item) from None
        self.tax_ids.append((record, line, item))

    def insert_tax_id(self, record: Record, line: int | None, item: str | None) -> None:
        tax_id, customer_id = record["id"], record["customer"]
        try:
            if self.store.get_tax_id(tax_id) is not None:
                if self.on_conflict == "error":
                    raise self.taken(tax_id, line, item, "tax ID")
                if self.on_conflict == "skip":
                    self.result.tax_ids_skipped += 1
                    return
                self.store.delete_tax_id(tax_id)
                self.result.tax_ids_replaced += 1
            else:
                self.result.tax_ids += 1
            self.store.insert_tax_id(record)
        except RecordNotFoundError:
            reason = f"no live customer {customer_id} in the store or earlier in the file"
            raise TransferError(reason, line=line, param="customer", item=item) from None

    # --- tombstones and reservations -----------------------------------------------

    def tombstone(self, values: Any, line: int | None, item: str | None) -> None:
        self.seen["deleted_customers"] += 1
        self.flush()
        customer_id, created = values["id"], values["created"]
        existing = self.store.sort_key(customer_id)
        if existing is not None:
            if self.store.is_deleted(customer_id) and existing[0] == created:
                self.result.deleted_customers_skipped += 1  # already deleted: the same state
            elif self.replaceable(customer_id, existing[0], created, line, item, tombstone=True):
                self.store.delete(customer_id)
                self.result.deleted_customers += 1
        else:
            self.store.insert_tombstone(customer_id, created)
            self.result.deleted_customers += 1
        prefix = values.get("invoice_prefix")
        if prefix is not None:
            self.reserve(prefix, customer_id, line, item)

    def reservation(self, values: Any, line: int | None, item: str | None) -> None:
        self.seen["invoice_prefixes"] += 1
        self.flush()
        customer_id = values["customer"]
        if self.store.sort_key(customer_id) is None:
            reason = f"no customer {customer_id} in the store or earlier in the file"
            raise TransferError(reason, line=line, param="customer", item=item)
        if self.reserve(values["invoice_prefix"], customer_id, line, item):
            self.result.invoice_prefixes += 1
        else:
            self.result.invoice_prefixes_skipped += 1

    def reserve(self, prefix: str, customer_id: str, line: int | None, item: str | None) -> bool:
        """Reserve a prefix for the customer; return whether it was not already."""
        try:
            return self.store.reserve_invoice_prefix(prefix, customer_id)
        except DuplicateKeyError:
            error = invoice_prefix_in_use(prefix)
            raise TransferError(
                error.message, line=line, param="invoice_prefix", item=item
            ) from None


_EARLIER_FIELDS = {
    "account_balance": "balance",  # renamed in API version 2019-10-17
    "default_card": "default_source",  # renamed in 2015-02-18
    "cards": None,  # sources since 2015-02-18, expand-only since 2020-08-27
    "tax_info": None,  # removed in 2019-10-17: tax IDs replaced them
    "tax_info_verification": None,
}
"""Fields a customer had in Stripe API versions before 2026-09-30 and no longer has, as
``stripe customers list`` still prints them for an account pinned to such a version: read
under their new name, or dropped as the expand-only fields are."""


def _as_current(value: dict[str, Any], line: int | None, item: str | None) -> dict[str, Any]:
    """A customer of an earlier API version with its renamed fields under their current
    names and its removed ones dropped."""
    current = dict(value)
    for name, successor in _EARLIER_FIELDS.items():
        if name not in current:
            continue
        given = current.pop(name)
        if successor is None:
            continue
        if current.get(successor) is not None and current[successor] != given:
            reason = (
                f"{name} (its name before Stripe renamed it {successor}) differs from "
                f"{successor}: {shown(given)} and {shown(current[successor])}"
            )
            raise TransferError(reason, line=line, param=name, item=item)
        current[successor] = given
    return current


def _unexpanded(value: dict[str, Any], line: int | None, item: str | None) -> dict[str, Any]:
    """A customer with its expanded references (``expand[]=default_source``, ``test_clock``,
    ``invoice_settings.default_payment_method``) back to the ids Stripe sends unexpanded."""
    current = value
    for name in ("default_source", "test_clock"):
        given = current.get(name)
        if given.__class__ is dict:
            current = {**current, name: _expanded_id(given, name, line, item)}
    settings = current.get("invoice_settings")
    if settings.__class__ is dict:
        given = settings.get("default_payment_method")
        if given.__class__ is dict:
            param = "invoice_settings[default_payment_method]"
            settings = {
                **settings,
                "default_payment_method": _expanded_id(given, param, line, item),
            }
            current = {**current, "invoice_settings": settings}
    return current


def _expanded_id(expanded: dict[str, Any], param: str, line: int | None, item: str | None) -> str:
    """The id of an expanded object; refuse one that has none."""
    found = expanded.get("id")
    if not isinstance(found, str) or not found:
        reason = (
            f"an expanded object without an id: {shown_briefly(expanded)}; expected its id "
            "or the object Stripe's expand gives"
        )
        raise TransferError(reason, line=line, param=param, item=item)
    return found


def _test_mode(values: Any, line: int | None, item: str | None) -> None:
    """Refuse an object of Stripe's live mode: customer_core's objects are test-mode ones
    (``livemode: false``), as a test-mode key sees them, and Stripe never mixes the two."""
    if values.get("livemode") is True:
        reason = (
            "this object is from Stripe's live mode (livemode true), and customer_core holds "
            "test-mode objects only; import test-mode data, or set livemode to false in the "
            "file to load live data as test data"
        )
        raise TransferError(reason, line=line, param="livemode", item=item)


_OTHER_OWNERS = ("account", "application")
"""Fields of Stripe's TaxId owner (stripe-python's ``TaxId.Owner``) that only a tax ID of
an account or application fills: null on a customer's."""


def _customer_owned(values: Any, line: int | None, item: str | None) -> Any:
    """A TaxId object without a null ``owner.account`` or ``owner.application`` (a
    customer's tax ID as Stripe may write it; customer_core's owner has neither); refuse
    one that an account or application owns."""
    owner = values.get("owner") if isinstance(values, dict) else None
    if not isinstance(owner, dict) or not any(name in owner for name in _OTHER_OWNERS):
        return values
    for name in _OTHER_OWNERS:
        if owner.get(name) is not None:
            reason = (
                f"this tax ID belongs to an {name}, and "
                "customer_core keeps the tax IDs of customers only"
            )
            raise TransferError(reason, line=line, param=f"owner[{name}]", item=item)
    kept = {name: value for name, value in owner.items() if name not in _OTHER_OWNERS}
    return {**values, "owner": kept}


_BOM = b"\xef\xbb\xbf"


_EXPORTED_CUSTOMER = b'{"id":"cus_'
"""How a customer line as an export writes it starts."""


def _first_of(numbered: Iterator[tuple[int, bytes]]) -> tuple[int, bytes] | None:
    """The first non-blank line and its number, its line ending (``\n`` or ``\r\n``)
    and surrounding whitespace stripped, and a UTF-8 byte order mark at the start of the
    file (which Windows tools write; RFC 8259 lets a parser ignore it)."""
    for number, text in numbered:
        text = text.strip() if number > 1 else text.removeprefix(_BOM).strip()
        if text:
            return number, text
    return None


def import_customers(
    service: CustomerService,
    source: IO[bytes] | str | os.PathLike[str],
    *,
    on_conflict: OnConflict = "error",
    progress: bool = False,
    exclusive: bool = False,
) -> ImportResult:
    """Import customers from ``source`` (a binary file or a path) into the service's store,
    all or nothing, in one transaction; see the module docstring for what is accepted.

    ``on_conflict`` says what to do with an id the store (or the file, earlier) already
    holds: ``"error"`` stops, ``"skip"`` keeps the existing customer, ``"replace"``
    overwrites it (its ``created`` must be the same). Raises TransferError naming the line,
    the field and the reason; the store is then as it was.

    ``exclusive``: on a SQLite store whose file no other connection has open, hold the
    file for the import and write it through a rollback journal instead of the WAL (each
    new page written once instead of twice: about a fifth less CPU); a connection that opens
    the file meanwhile waits for the import to end. Ignored when another connection has
    the file open (the import keeps the WAL, and others read on) and on other stores
    (``customer_core.store.sqlite_exclusive``). ``customer-core import`` sets it.
    """
    if on_conflict not in ("error", "skip", "replace"):
        msg = f"Invalid on_conflict: {on_conflict!r} (expected 'error', 'skip' or 'replace')"
        raise InvalidRequestError(msg, param="on_conflict")
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as file:
            return import_customers(
                service, file, on_conflict=on_conflict, progress=progress, exclusive=exclusive
            )
    importer = _Importer(service, on_conflict)
    bar = Progress("customers", total_bytes=_size(source)) if progress else None
    store = service.store
    held = (
        held_exclusively(store)
        if exclusive and isinstance(store, SQLiteStore)
        else contextlib.nullcontext()
    )
    with _collector_paused(), held, store.transaction():
        numbered = enumerate(source, 1)
        first = _first_of(numbered)
        if first is None:
            reason = (
                "the file is empty: an import reads a header line "
                f'({{"format":"{FORMAT}",...}}, as an export starts) or customers, one a line'
            )
            raise TransferError(reason, line=1)
        _first_line(importer, source, *first)
        importer.lines(numbered, source, bar)
        importer.finish()
    if bar is not None:
        bar.finish(importer.result.created + importer.result.replaced)
    return importer.result


def import_into_new_file(
    source: IO[bytes] | str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    on_conflict: OnConflict = "error",
    progress: bool = False,
) -> ImportResult:
    """Import customers from ``source`` into a new SQLite data file at ``path``, which must
    not exist: as ``import_customers`` into ``SQLiteStore(path)``, all or nothing, but
    built beside it as ``PATH.partial`` without a WAL or an fsync per write and put in
    place whole when complete (``customer_core.store.sqlite_new_file``), a quarter less
    CPU. A failed or interrupted import leaves no file at ``path``; a killed one
    leaves ``PATH.partial``, which the next import into ``path`` replaces."""
    with new_sqlite_file(path) as store:
        return import_customers(
            CustomerService(store), source, on_conflict=on_conflict, progress=progress
        )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: an import or export makes millions of
    short-lived dicts and no reference cycles, and the collector's passes over them
    cost about a fifth of the time (their memory is freed by reference counting).

    While it is paused, every container that is made and kept (a memory store's index
    entries: eight tuples a customer) stays in the youngest generation, which the first
    collection after the pause would walk whole (0.2 s for 100,000 customers, 2.6 s for
    1M). ``gc.freeze()`` then ``gc.unfreeze()`` moves them to the oldest generation at
    no cost instead, where they wait for the next full collection like any long-lived
    object. Skipped when the application froze objects itself (``gc.freeze()`` before a
    fork): unfreezing would thaw those too."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


def _first_line(importer: _Importer, source: IO[bytes], number: int, text: bytes) -> None:
    """A header, a first JSON line, or the start of one pretty-printed JSON document (as
    the Stripe CLI prints a list page): that one is read whole."""
    line: int | None = number  # where an array's items are: its line, if it has one
    try:
        value = parse_json(text)
    except NotJson as error:
        if not text.startswith((b"{", b"[")):
            raise _not_json(error, number) from None
        value = _document(text, source, number)
        line = None
        if not isinstance(value, list):
            importer.value(value, None, "document")
            return
    else:
        if isinstance(value, list):
            value = _document(text, source, number)  # nothing may follow a one-line array
    if isinstance(value, list):  # a JSON array of customers, pretty-printed or on one line
        for index, entry in enumerate(value):
            importer.value(entry, line, f"[{index}]")
        return
    if isinstance(value, dict) and "format" in value:
        version = value.get("version")
        if version.__class__ is int and version > FORMAT_VERSION:  # whatever else it holds
            reason = (
                f"format version {version} was written by a newer customer_core; "
                f"this one reads version {FORMAT_VERSION}"
            )
            raise TransferError(reason, line=number, param="version")
        try:
            _HEADER.validate_python(value, strict=True)
        except ValidationError as error:
            what = f"header line of format version {FORMAT_VERSION}"
            raise _problem(error, number, None, what) from None
        _check_api_version(value["api_version"], number)
        importer.header = True
        return
    importer.value(value, number, None)


_API_VERSION_PATTERN = re.compile(r"(\d{4}-\d{2}-\d{2})(\.[a-z]+)?")
"""A Stripe API version: its release date, and since 2024 the release's name
(``2025-03-31.basil``)."""


def _check_api_version(given: str, line: int) -> None:
    """Accept an export's customers of our Stripe API version or an earlier one (the
    fields earlier versions named otherwise are read under their current names, as in any
    line); refuse a later or unknown one, whose customers this version may misread."""
    found = _API_VERSION_PATTERN.fullmatch(given)
    if found is None:
        reason = (
            f"not a Stripe API version: {shown_briefly(given)}; expected a date such as "
            f"{API_VERSION} (the version of the customer objects in the file)"
        )
        raise TransferError(reason, line=line, param="api_version")
    if found[1] > API_VERSION.partition(".")[0]:
        reason = (
            f"the customers are of Stripe API version {given}, newer than this "
            f"customer_core's {API_VERSION}: upgrade customer_core to import them"
        )
        raise TransferError(reason, line=line, param="api_version")


def _size(source: IO[bytes]) -> int | None:
    try:
        return os.fstat(source.fileno()).st_size or None
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None


def _position(source: IO[bytes]) -> int | None:
    try:
        return source.tell()
    except (OSError, io.UnsupportedOperation):
        return None


# --- progress ------------------------------------------------------------------------


class Progress:
    """A one-line progress report on stderr (count, rate, time left), drawn only when
    stderr is a terminal and at most five times a second. A few lines of our own rather
    than a dependency: the line is all that is needed."""

    def __init__(
        self,
        unit: str,
        *,
        total: int | None = None,
        total_bytes: int | None = None,
        stream: IO[str] | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.unit = unit
        self.total = total
        self.total_bytes = total_bytes
        self.started = time.monotonic()
        self.drawn = 0.0

    def update(self, done: int, position: int | None = None) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.drawn < 0.2:
            return
        self.drawn = now
        elapsed = max(now - self.started, 1e-9)
        fraction = None
        if self.total:
            fraction = done / self.total
        elif self.total_bytes and position is not None:
            fraction = position / self.total_bytes
        text = f"\r{done:,} {self.unit}  {done / elapsed:,.0f}/s"
        if fraction:
            left = elapsed * (1 - fraction) / fraction
            text += f"  {min(fraction, 1):.0%}  {_duration(left)} left"
        self.stream.write(text + "   ")
        self.stream.flush()

    def finish(self, done: int) -> None:
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-9)
        self.stream.write(
            f"\r{done:,} {self.unit}  {done / elapsed:,.0f}/s  in {_duration(elapsed)}"
            + " " * 20
            + "\n"
        )
        self.stream.flush()


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
