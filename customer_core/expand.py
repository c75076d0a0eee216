"""``expand``: which paths may be expanded, and the includable fields they add.

This library keeps no sources, test clocks, payment methods, balances, subscriptions
or tax ids, so references expand to null and includable fields are empty (see
docs/decisions.md).

>>> sorted(expansions(["tax", "default_source"]))
['tax']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import InvalidRequestError
from .models import Customer, Record, canonical

__all__ = ["NOTHING", "expansions", "with_included"]

# What ``expand`` may name. Id fields may be followed by deeper segments: they are
# null here (this library keeps no sources, clocks or payment methods), so those
# expand to null as Stripe's would for an unset reference.
_REFERENCES = ("default_source", "test_clock")
_NESTED = ("address", "discount", "shipping")
_INCLUDABLE = Customer.INCLUDABLE
_MAX_EXPAND_DEPTH = 4
NOTHING: frozenset[str] = frozenset()


def expansions(paths: Sequence[str], *, prefix: str = "") -> frozenset[str]:
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
    return {
        "object": "list",
        "data": [],
        "has_more": False,
        "url": f"/v1/customers/{customer_id}/{name}",
    }


def with_included(record: Record, included: frozenset[str]) -> Record:
    """Add the includable fields ``expand`` asked for, in Stripe's key order."""
    if not included:
        return record
    extra = {name: _included(record["id"], name) for name in included}
    return canonical({**record, **extra})
