"""What the service's operations share with ``TaxIdService``, which the service module
builds (so neither can import the other at module level for them): the ``Outcome`` that
``perform`` returns, and ``request_info``, what an event records of its request."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, cast

from . import idempotency
from .errors import InvalidRequestError
from .events import RequestInfo
from .metadata import NUL, wire_string
from .models import BODY_INDENT, Customer, Record, record_json

if TYPE_CHECKING:  # the union of every operation's result, which names tax_ids' models
    from .service import Result

__all__ = ["Outcome", "request_info"]


def request_info(request_id: object, idempotency_key: object) -> RequestInfo:
    """What an event records of the request that made it: its id and idempotency key,
    each text or None. Anything else is refused here, before the write: recorded, it
    failed every later read of the event (pydantic's error, a MemoryStore checkpoint's
    TypeError). A key is held to its length only where it counts (``check_key``: not on
    a delete, where Stripe ignores it)."""
    key = idempotency.supplied_key(idempotency_key)
    return {
        "id": request_id if _plain(request_id) else _request_id(request_id),
        "idempotency_key": key if _plain(key) else _text(key) or idempotency.check_key(key),
    }


def _plain(value: object) -> bool:
    """Whether ``value`` is None or ASCII text without NUL (nearly always): kept as it is."""
    return value is None or (value.__class__ is str and value.isascii() and NUL not in value)


def _text(value: object) -> str | None:
    """``value`` as a plain str when it is Unicode text without NUL (a subclass of str
    too, which no store may hold), else None."""
    if not isinstance(value, str) or NUL in value or wire_string(value) is None:
        return None
    return str.__str__(value)


def _request_id(value: object) -> str:
    text = _text(value)
    if text is None:
        msg = (
            f"Invalid request_id: {value!r}; it must be Unicode text without NUL characters "
            "(such as an HTTP Request-Id), or None."
        )
        raise InvalidRequestError(msg, param="request_id")
    return text


class Outcome:
    """What ``CustomerService.perform`` returns: the result, whether it is the saved
    answer of an earlier request with the same idempotency key, and its JSON body when
    the service encoded it already (for an idempotency entry).

    A customer write gives its record (``Outcome.of``): the Customer model is built on
    first use of ``result``, and ``to_json()`` encodes the record as it is, so a wrapper
    that sends the body never builds the model.
    """

    __slots__ = ("_record", "_result", "body", "replayed")

    def __init__(self, result: Result, replayed: bool = False, body: bytes | None = None) -> None:
        self._result: Result | None = result
        self._record: Record | None = None
        self.replayed = replayed
        self.body = body
        """The result's JSON body as Stripe sends it when the service encoded it already;
        wrappers send it as it is."""

    @classmethod
    def of(cls, value: Result | Record) -> Outcome:
        """The Outcome of a write: a model, or a customer's record (its model built lazily)."""
        if not isinstance(value, dict):
            return cls(value)
        outcome = cls.__new__(cls)
        outcome._result, outcome._record = None, value
        outcome.replayed, outcome.body = False, None
        return outcome

    def with_body(self, body: bytes) -> Outcome:
        """This outcome with its encoded body (``to_json()``'s bytes)."""
        self.body = body
        return self

    def __repr__(self) -> str:
        return f"Outcome(replayed={self.replayed!r}, result={self.result!r})"

    @property
    def result(self) -> Result:
        """The result: a Customer, a page, a tax ID, ..."""
        result = self._result
        if result is None:
            with _RENDERING:
                if self._result is None:
                    # from_record takes the record over: it is the model's from now on.
                    self._result = Customer.from_record(cast(Record, self._record))
                    self._record = None
                result = self._result
        return result

    def to_json(self) -> bytes:
        """The JSON body Stripe sends for the result (pretty-printed, ``BODY_INDENT``)."""
        if self.body is not None:
            return self.body
        with _RENDERING:
            if self._record is not None:
                return record_json(self._record, indent=BODY_INDENT)
        return cast("Result", self._result).to_json(indent=BODY_INDENT)


_RENDERING = threading.Lock()
"""Held while an Outcome's record is read or made into its model (outcomes are seldom
shared between threads, but one that is must not be encoded mid-way)."""
