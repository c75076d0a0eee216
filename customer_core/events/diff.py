"""``previous_attributes`` of a ``*.updated`` event: what changed, with the old values.

Rules (docs/decisions.md, "Events"): a changed top-level field appears by name with its
old value; an object present before and after (metadata, address, shipping,
invoice_settings, and objects inside them) shows only its changed keys, null for a key
that did not exist before; an object that appears or is cleared shows its whole old value
(null or the old object); an array that changed in any way shows the whole old array
(Stripe's rule since 2017-05-25).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["previous_attributes"]


def previous_attributes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Return the old values of what differs between ``before`` and ``after``; a key
    absent on one side counts as null.

    >>> previous_attributes(
    ...     {"email": "a@x.io", "metadata": {"plan": "gold", "seats": "2"}, "tags": ["a"]},
    ...     {"email": "b@x.io", "metadata": {"plan": "gold", "team": "x"}, "tags": ["a", "b"]},
    ... )
    {'email': 'a@x.io', 'metadata': {'seats': '2', 'team': None}, 'tags': ['a']}
    """
    changed: dict[str, Any] = {}
    for key in (*before, *(key for key in after if key not in before)):
        old, new = before.get(key), after.get(key)
        if old == new and type(old) is type(new):
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            changed[key] = previous_attributes(old, new)
        else:
            changed[key] = old
    return changed
