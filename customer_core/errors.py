"""Errors raised by customer_core, shaped like Stripe's.

Every problem a caller can cause comes out as one of these, never as a raw
``TypeError``, ``KeyError`` or ``pydantic.ValidationError``. Classes are chosen by
how a caller reacts (as in stripe-python); the long tail of Stripe codes lives in
``code`` and ``param``::

    CustomerCoreError                 type, code, param, message, http_status, to_dict()
    ├── InvalidRequestError           invalid_request_error, 400 (404 for an unknown path id)
    ├── IdempotencyError              idempotency_error, 400 (409 while the key is in use)
    └── APIError                      api_error, 500: the store failed, not the caller
        └── StoreError                raised by stores; DuplicateKeyError, StoreClosedError, ...
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "CustomerCoreError",
    "DuplicateKeyError",
    "IdempotencyError",
    "InvalidRequestError",
    "RecordNotFoundError",
    "StoreClosedError",
    "StoreError",
    "error_from_dict",
    "invoice_prefix_in_use",
    "no_such",
    "no_such_customer",
]

DOC_URL = "https://stripe.com/docs/error-codes/"


class CustomerCoreError(Exception):
    """The one exception class callers can always catch; carries Stripe's error fields."""

    type: str = "api_error"
    default_status: int = 500
    replayed: bool = False
    """True when this error is the saved answer of an earlier request with the same
    idempotency key (Stripe sends ``Idempotent-Replayed: true`` with it)."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.http_status = http_status if http_status is not None else self.default_status

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, code={self.code!r}, "
            f"param={self.param!r}, http_status={self.http_status})"
        )

    @property
    def doc_url(self) -> str | None:
        """Stripe's documentation link for ``code``, as real error bodies carry it."""
        return DOC_URL + self.code.replace("_", "-") if self.code else None

    def to_dict(self) -> dict[str, Any]:
        """Return Stripe's error body: ``{"error": {...}}``, absent fields omitted."""
        body: dict[str, Any] = {}
        if self.code:
            body["code"] = self.code
            body["doc_url"] = self.doc_url
        body["message"] = self.message
        if self.param:
            body["param"] = self.param
        body["type"] = self.type
        return {"error": body}


def error_from_dict(body: dict[str, Any], http_status: int) -> CustomerCoreError:
    """Rebuild an error from its ``to_dict()`` body (for replaying idempotent requests)."""
    fields = body["error"]
    kinds: dict[str, type[CustomerCoreError]] = {
        "invalid_request_error": InvalidRequestError,
        "idempotency_error": IdempotencyError,
    }
    kind = kinds.get(fields.get("type", ""), APIError)
    return kind(
        fields.get("message", ""),
        code=fields.get("code"),
        param=fields.get("param"),
        http_status=http_status,
    )


class InvalidRequestError(CustomerCoreError):
    """The request was malformed or named something that does not exist."""

    type = "invalid_request_error"
    default_status = 400


class IdempotencyError(CustomerCoreError):
    """An idempotency key was reused with other parameters, or is still in use."""

    type = "idempotency_error"
    default_status = 400


class APIError(CustomerCoreError):
    """Something went wrong on our side (for example the store failed); not the caller's fault."""

    type = "api_error"
    default_status = 500


class StoreError(APIError):
    """A store could not do what was asked; the data is as it was before the call."""


class DuplicateKeyError(StoreError):
    """A record's id or invoice prefix is already held by another record (tombstones included)."""

    def __init__(self, message: str, *, key: str, value: str) -> None:
        super().__init__(message)
        self.key = key
        self.value = value


class RecordNotFoundError(StoreError):
    """The store has no live record with that id."""


class StoreClosedError(StoreError):
    """The store was closed; open a new one."""


def no_such(
    resource: str, object_id: object, *, param: str = "id", http_status: int = 404
) -> InvalidRequestError:
    """Build Stripe's ``No such <resource>: 'id'`` error (404 for a path id, 400 for a param)."""
    return InvalidRequestError(
        f"No such {resource}: '{object_id}'",
        code="resource_missing",
        param=param,
        http_status=http_status,
    )


def no_such_customer(
    customer_id: object, *, param: str = "id", http_status: int = 404
) -> InvalidRequestError:
    """Build Stripe's ``No such customer: 'cus_x'`` error (404 for a path id, 400 for a param)."""
    return no_such("customer", customer_id, param=param, http_status=http_status)


def damaged_record(record: object, error: BaseException) -> StoreError:
    """A stored customer record that is not one (edited by hand, or another program's):
    an error naming it, instead of a KeyError from deep inside the model."""
    shown = record.get("id") if isinstance(record, dict) else None
    errors = getattr(error, "errors", None)  # a pydantic ValidationError: its first problem
    if callable(errors):
        first = errors()[0]
        problem = f"{'.'.join(map(str, first['loc']))}: {first['msg'].lower()}"
    elif isinstance(error, KeyError):
        problem = f"missing field {error}"
    else:
        problem = str(error)
    return StoreError(
        f"A stored customer record is damaged (id {shown!r}: {problem}); "
        "it was changed outside customer_core."
    )


def invoice_prefix_in_use(prefix: str) -> InvalidRequestError:
    """Build Stripe's error for an invoice prefix another customer (live or deleted) holds."""
    msg = (
        f"Invoice prefix {prefix} is already in use. Invoice prefixes must be unique "
        "across all customers, including deleted ones."
    )
    return InvalidRequestError(msg, param="invoice_prefix")
