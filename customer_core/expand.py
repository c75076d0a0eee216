"""``expand``: which paths may be expanded, and the includable fields they add.

This library keeps no sources, test clocks, payment methods, balances or subscriptions,
so references expand to null and includable fields are empty (see docs/decisions.md);
``tax_ids`` lists the customer's tax IDs (the service fills it in, see ``tax_ids.py``).

>>> sorted(expansions(["tax", "default_source"]))
['tax']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import InvalidRequestError
from .models import Customer, Record, canonical

__all__ = [
    "NOTHING",
    "cannot_expand",
    "check_list_expand",
    "check_list_path",
    "expansions",
    "too_deep",
    "with_included",
]

# What ``expand`` may name. Id fields may be followed by deeper segments: they are
# null here (this library keeps no sources, clocks or payment methods), so those
# expand to null as Stripe's would for an unset reference.
_REFERENCES = ("default_source", "test_clock")
_NESTED = ("address", "discount", "shipping")
_INCLUDABLE = Customer.INCLUDABLE
# Paths into an includable list's items; ``expansions`` returns them beside the list.
_DEEP = frozenset({"tax_ids.data.customer", "tax_ids.data.owner.customer"})
# The paths an expand path may go through on its way to the segment that is not
# expandable, which its error names: tax_ids.data.customer.bogus names all four.
_DEEP_WALKS = frozenset(
    ".".join(path.split(".")[:end]) for path in _DEEP for end in range(1, path.count(".") + 2)
)
_MAX_EXPAND_DEPTH = 4
NOTHING: frozenset[str] = frozenset()


def cannot_expand(path: str) -> InvalidRequestError:
    """Stripe's error for an expand path that names something not expandable."""
    return InvalidRequestError(f"This property cannot be expanded ({path}).", param="expand")


def check_list_path(path: str) -> None:
    """Refuse ``total_count`` in a list's ``expand``: API 2025-03-31.basil removed that
    expansion from list methods ("returns a 400 error with a property_forbidden error")."""
    if path == "total_count":
        msg = (
            "The total_count property cannot be expanded on a list since API version "
            "2025-03-31.basil; page through the list with has_more instead."
        )
        raise InvalidRequestError(msg, code="property_forbidden", param="expand")


def check_list_expand(paths: Sequence[str]) -> None:
    """``check_list_path`` for each path, for lists whose items expand nothing here (events,
    webhook endpoints: other paths are let through, as before)."""
    for path in paths:
        check_list_path(path)


def too_deep(path: str) -> InvalidRequestError | None:
    """Stripe's error for an expand path deeper than 4 levels, or None."""
    if path.count(".") < _MAX_EXPAND_DEPTH:
        return None
    msg = f"You cannot expand more than {_MAX_EXPAND_DEPTH} levels of a property. Property: {path}"
    return InvalidRequestError(msg, param="expand")


def expansions(paths: Sequence[str], *, prefix: str = "") -> frozenset[str]:
    """Check ``expand`` paths; return the includable fields they ask for."""
    included: set[str] = set()
    for path in paths:
        segments = path.split(".")
        error = too_deep(path)
        if error is not None:
            raise error
        local = segments
        if prefix:
            check_list_path(path)
            if segments[0] != prefix:
                raise cannot_expand(segments[0])
            local = segments[1:]
        if not local:
            raise cannot_expand(path)
        head = local[0]
        bad: int | None = None
        if head in _REFERENCES:
            pass
        elif ".".join(local) in _DEEP:
            included.update((head, ".".join(local)))
        elif head in _INCLUDABLE or head in _NESTED:
            bad = 1 if len(local) > 1 else None
            while (
                bad is not None
                and bad < len(local) - 1
                and ".".join(local[: bad + 1]) in _DEEP_WALKS
            ):
                bad += 1
            if head in _INCLUDABLE and bad is None:
                included.add(head)
        elif head == "invoice_settings":
            if len(local) > 1 and local[1] != "default_payment_method":
                bad = 1
        else:
            bad = 0
        if bad is not None:
            raise cannot_expand(".".join(segments[: len(segments) - len(local) + bad + 1]))
    return frozenset(included)


def _included(customer_id: str, name: str) -> Any:
    """The value of an includable field: this library keeps no balances, sources or
    subscriptions, so they are empty (docs/decisions.md); the service fills ``tax_ids``."""
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
    extra = {name: _included(record["id"], name) for name in included if "." not in name}
    return canonical({**record, **extra})
