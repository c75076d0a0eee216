"""The objects customer_core returns, shaped exactly like Stripe's JSON.

``Customer.to_dict()`` (or ``model_dump(mode="json")``) gives Stripe's body, key for key:
``id`` and ``object`` first, then the fields in alphabetical order. Fields Stripe leaves
out when they are unset (``business_name``, ``individual_name``) or only includes on
request (``tax``, ``sources``, ...) are left out unless set.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import pydantic_core
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import damaged_record

__all__ = [
    "API_VERSION",
    "BODY_INDENT",
    "Address",
    "CUSTOMER_FIELDS",
    "Customer",
    "CustomField",
    "DeletedCustomer",
    "InvoiceSettings",
    "ListPage",
    "RenderingOptions",
    "SearchPage",
    "Shipping",
    "canonical",
    "record_json",
]

API_VERSION = "2026-09-30.endive"
"""The API version whose shapes the bodies have, whatever version a client asks for."""
BODY_INDENT = 2
"""Stripe pretty-prints its JSON bodies (two spaces, ``": "`` after keys): curl users and
scripts grep for ``"email": "..."``."""

Record = dict[str, Any]
"""A customer as stored: exactly its Stripe JSON form (without includable fields)."""

_set_attribute = object.__setattr__


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        """Return Stripe's JSON form of this object (plain dicts, lists and scalars)."""
        return self.model_dump(mode="json")

    def to_json(self, *, indent: int | None = None) -> bytes:
        """Return Stripe's JSON body as bytes (``indent=2``: pretty-printed, as Stripe sends it)."""
        return self.model_dump_json(indent=indent).encode()

    @classmethod
    def _trusted(cls, values: dict[str, Any]) -> Any:
        """Build an instance from values this library validated before, without revalidating.

        Stored records were checked on write; rebuilding them through pydantic would
        cost more than the rest of a retrieve. This is ``model_construct`` minus its
        per-field default filling, so ``values`` must hold every field (tested).
        """
        instance = cls.__new__(cls)
        _set_attribute(instance, "__dict__", values)
        _set_attribute(instance, "__pydantic_fields_set__", set(values))
        _set_attribute(instance, "__pydantic_extra__", None)
        _set_attribute(instance, "__pydantic_private__", None)
        return instance


class Address(_Model):
    city: str | None = None
    country: str | None = None
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    state: str | None = None


class Shipping(_Model):
    address: Address
    carrier: str | None = None
    name: str
    phone: str | None = None
    tracking_number: str | None = None

    @classmethod
    def _trusted(cls, values: dict[str, Any]) -> Any:
        values["address"] = Address._trusted(values["address"])
        return super()._trusted(values)


class CustomField(_Model):
    name: str
    value: str


class RenderingOptions(_Model):
    amount_tax_display: str | None = None
    template: str | None = None


class InvoiceSettings(_Model):
    custom_fields: list[CustomField] | None = None
    default_payment_method: str | None = None
    footer: str | None = None
    rendering_options: RenderingOptions | None = None

    @classmethod
    def _trusted(cls, values: dict[str, Any]) -> Any:
        fields = values["custom_fields"]
        if fields is not None:
            values["custom_fields"] = [CustomField._trusted(field) for field in fields]
        if values["rendering_options"] is not None:
            values["rendering_options"] = RenderingOptions._trusted(values["rendering_options"])
        return super()._trusted(values)


class Customer(_Model):
    """A Stripe customer (API version 2026-09-30)."""

    id: str
    object: Literal["customer"] = "customer"
    address: Address | None = None
    balance: int = 0
    business_name: str | None = None
    cash_balance: dict[str, Any] | None = None
    created: int
    currency: str | None = None
    customer_account: str | None = None
    default_source: str | None = None
    delinquent: bool | None = False
    description: str | None = None
    discount: dict[str, Any] | None = None
    email: str | None = None
    individual_name: str | None = None
    invoice_credit_balance: dict[str, int] | None = None
    invoice_prefix: str | None = None
    invoice_settings: InvoiceSettings = InvoiceSettings()
    livemode: bool = False
    metadata: dict[str, str] = {}
    name: str | None = None
    next_invoice_sequence: int = 1
    phone: str | None = None
    preferred_locales: list[str] | None = []
    shipping: Shipping | None = None
    sources: dict[str, Any] | None = None
    subscriptions: dict[str, Any] | None = None
    tax: dict[str, Any] | None = None
    tax_exempt: Literal["exempt", "none", "reverse"] | None = "none"
    tax_ids: dict[str, Any] | None = None
    test_clock: str | None = None

    INCLUDABLE: ClassVar[frozenset[str]] = frozenset(
        {"cash_balance", "invoice_credit_balance", "sources", "subscriptions", "tax", "tax_ids"}
    )
    """Fields present only when asked for with ``expand``."""
    OMITTED_UNLESS_SET: ClassVar[frozenset[str]] = INCLUDABLE | {"business_name", "individual_name"}
    """Fields left out of the body unless set (the two names are absent when empty)."""

    def _left_out(self, exclude: Any) -> Any:
        """Fields to leave out of a dump: the caller's, plus optional ones never set."""
        absent = self.OMITTED_UNLESS_SET - self.model_fields_set
        if exclude is None:
            return absent
        if isinstance(exclude, dict):
            return {**dict.fromkeys(absent, True), **exclude}
        return absent | set(exclude)

    def model_dump(self, *, exclude: Any = None, **options: Any) -> dict[str, Any]:
        """Pydantic's ``model_dump``, leaving out optional fields that were never set."""
        return super().model_dump(exclude=self._left_out(exclude), **options)

    def model_dump_json(self, *, exclude: Any = None, **options: Any) -> str:
        """Pydantic's ``model_dump_json``, leaving out optional fields that were never set."""
        return super().model_dump_json(exclude=self._left_out(exclude), **options)

    def to_json(self, *, indent: int | None = None) -> bytes:
        """Return Stripe's JSON body as bytes, encoded by pydantic-core from plain dicts
        (``_plain``): twice as fast as from the model and its nested models."""
        return record_json(self._plain(), indent=indent)

    def _plain(self) -> dict[str, Any]:
        """The body's values as they are (shared, not copied), nested models as their
        field dicts: what ``to_dict()`` gives, short of the copy."""
        plain = dict(self.__dict__)
        for name in self.OMITTED_UNLESS_SET - self.__pydantic_fields_set__:
            plain.pop(name, None)
        plain["address"] = _fields(plain["address"])
        shipping = plain["shipping"]
        if isinstance(shipping, BaseModel):
            plain["shipping"] = {
                **shipping.__dict__,
                "address": _fields(shipping.__dict__["address"]),
            }
        settings = plain["invoice_settings"]
        if isinstance(settings, BaseModel):
            settings = plain["invoice_settings"] = dict(settings.__dict__)
            if settings["custom_fields"] is not None:
                settings["custom_fields"] = [_fields(item) for item in settings["custom_fields"]]
            settings["rendering_options"] = _fields(settings["rendering_options"])
        return plain

    @classmethod
    def _trusted(cls, values: dict[str, Any]) -> Any:
        if values["address"] is not None:
            values["address"] = Address._trusted(values["address"])
        if values["shipping"] is not None:
            values["shipping"] = Shipping._trusted(values["shipping"])
        values["invoice_settings"] = InvoiceSettings._trusted(values["invoice_settings"])
        fields_set = set(values)
        # Absent optional fields go last: the serializer walks __dict__ in order and
        # drops them again, so the body keeps the record's (Stripe's) key order.
        for name in cls.OMITTED_UNLESS_SET - fields_set:
            values[name] = None
        instance = super()._trusted(values)
        _set_attribute(instance, "__pydantic_fields_set__", fields_set)
        return instance

    @classmethod
    def from_record(cls, record: Record) -> Customer:
        """Build a Customer from a stored record, taking ownership of ``record``."""
        try:
            customer: Customer = cls._trusted(record)
        except (KeyError, TypeError, AttributeError) as error:
            raise damaged_record(record, error) from None
        return customer


def _validated(record: Record) -> Customer:
    try:
        return Customer.model_validate(record)
    except ValidationError as error:
        raise damaged_record(record, error) from None


def record_json(record: Record, *, indent: int | None = None) -> bytes:
    """The JSON body of the customer ``record`` (with the includable fields it was given):
    ``Customer.from_record(record).to_json(indent=indent)`` byte for byte, without the model."""
    return pydantic_core.to_json(record, indent=indent)


def _fields(value: Any) -> Any:
    """A nested model's field dict (its JSON form: nested models hold plain values)."""
    return value.__dict__ if isinstance(value, BaseModel) else value


_KEY_ORDER = tuple(Customer.model_fields)


def canonical(record: Record) -> Record:
    """Return ``record`` with its keys in Stripe's order (id, object, then alphabetical)."""
    return {name: record[name] for name in _KEY_ORDER if name in record}


CUSTOMER_FIELDS: tuple[str, ...] = tuple(
    name for name in Customer.model_fields if name not in Customer.OMITTED_UNLESS_SET
)
"""The keys of a default customer body, in Stripe's order."""


class DeletedCustomer(_Model):
    """The stub Stripe returns for a deleted customer: ``{id, object, deleted: true}``."""

    id: str
    object: Literal["customer"] = "customer"
    deleted: Literal[True] = True


class _Page:
    """A page of customers whose JSON form is built straight from store records.

    ``to_json()`` encodes the records as they came from the store; ``to_dict()`` hands
    out a copy. ``data`` builds validated Customer models on first use.
    """

    object: ClassVar[str]
    url: ClassVar[str]

    __slots__ = ("_data", "_records", "has_more")

    def __init__(self, records: list[Record], has_more: bool) -> None:
        self._records = records
        self._data: list[Customer] | None = None
        self.has_more = has_more

    @property
    def data(self) -> list[Customer]:
        """The customers on this page, newest first."""
        if self._data is None:
            self._data = [_validated(record) for record in self._records]
        return self._data

    def __iter__(self) -> Iterator[Customer]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} of {len(self._records)} customers, has_more={self.has_more}>"
        )

    def _fields(self) -> dict[str, Any]:
        return {}

    def _body(self, data: list[Any]) -> dict[str, Any]:
        return {
            "object": self.object,
            "url": self.url,
            "has_more": self.has_more,
            **self._fields(),
            "data": data,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return Stripe's JSON body of this page: a copy the caller owns (changing it
        changes neither this page nor a later ``to_dict()``)."""
        # Records are JSON-ready dicts and lists: marshal copies them deeply, in C.
        return self._body(marshal.loads(marshal.dumps(self._records)))

    def model_dump(self, *, mode: str = "python") -> dict[str, Any]:
        """The page as pydantic would dump it: ``mode="json"`` is ``to_dict()``,
        ``mode="python"`` dumps each item of ``data`` in Python mode."""
        if mode == "json":
            return self.to_dict()
        if mode == "python":
            return self._body([item.model_dump(mode="python") for item in self.data])
        msg = f"mode must be 'json' or 'python', not {mode!r}"
        raise ValueError(msg)

    def to_json(self, *, indent: int | None = None) -> bytes:
        """Return Stripe's JSON body as bytes (pydantic-core's encoder: the standard
        library's falls back to pure Python when indenting)."""
        return pydantic_core.to_json(self._body(self._records), indent=indent)


class ListPage(_Page):
    """One page of ``GET /v1/customers``: ``{object: "list", url, has_more, data}``."""

    object = "list"
    url = "/v1/customers"
    __slots__ = ()


class SearchPage(_Page):
    """One page of ``GET /v1/customers/search``: ``{object: "search_result", url, has_more,
    next_page, data}``, plus ``total_count`` when it was asked for with ``expand``."""

    object = "search_result"
    url = "/v1/customers/search"
    __slots__ = ("next_page", "total_count")

    def __init__(
        self,
        records: list[Record],
        has_more: bool,
        next_page: str | None,
        total_count: int | None = None,
    ) -> None:
        super().__init__(records, has_more)
        self.next_page = next_page
        self.total_count = total_count

    def _fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"next_page": self.next_page}
        if self.total_count is not None:
            fields["total_count"] = self.total_count
        return fields
