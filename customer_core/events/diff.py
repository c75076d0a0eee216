"""``previous_attributes`` of a ``*.updated`` event: what changed, with the old values.

Rules (docs/decisions.md, "Events"): a changed top-level field appears by name with its
old value; an object present before and after (metadata, address, shipping,
invoice_settings, and objects inside them) shows only its changed keys, null for a key
that did not exist before; an object that appears or is cleared shows its whole old value
(null or the old object); an array that changed in any way shows the whole old array
(Stripe's rule since 2017-05-25).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

__all__ = ["changes", "previous_attributes"]

_ABSENT = object()
_JSON_VALUES = frozenset({str, int, float, bool, type(None), list})
"""Types of JSON values that are not objects."""


def previous_attributes(
    before: Mapping[str, Any], after: Mapping[str, Any], keys: Iterable[str] | None = None
) -> dict[str, Any]:
    """Return the old values of what differs between ``before`` and ``after``; a key
    absent on one side counts as null. ``keys``, when the caller knows them, are the only
    top-level keys that may differ, in the customer's order: then only they are compared
    (an update names a few fields of a record of 20-odd; a walk of all of them cost
    about 30,000 instructions an update, benchmarks/RESULTS.md, "fifth pass").

    >>> previous_attributes(
    ...     {"email": "a@x.io", "metadata": {"plan": "gold", "seats": "2"}, "tags": ["a"]},
    ...     {"email": "b@x.io", "metadata": {"plan": "gold", "team": "x"}, "tags": ["a", "b"]},
    ... )
    {'email': 'a@x.io', 'metadata': {'seats': '2', 'team': None}, 'tags': ['a']}
    """
    changed: dict[str, Any] = {}
    get = after.get
    if keys is not None:
        before_get = before.get
        for key in keys:
            old: Any = before_get(key)
            new: Any = get(key)
            if old is new:
                continue
            # _compare's usual cases inline (a call a key is a tenth of an update's diff).
            kind = type(old)
            if kind is type(new):
                if old == new:
                    continue
                if kind is dict:
                    changed[key] = previous_attributes(old, new)
                    continue
                if kind in _JSON_VALUES:
                    changed[key] = old
                    continue
            _compare(changed, key, old, new)
        return changed
    # An update copies the record shallowly and replaces nested values: what it left
    # alone is the very same object, skipped at once. A plain loop: nested objects have
    # few keys, for which a comprehension's call costs more than it saves. Keys ``after``
    # lacks are counted: then no walk of ``after`` is needed to see that it holds no key
    # ``before`` lacks.
    absent = 0
    for key, old in before.items():
        new = get(key, _ABSENT)
        if old is new:
            continue
        if new is _ABSENT:
            absent += 1
            new = None
        elif type(old) is str and type(new) is str:  # metadata values: no call
            if old != new:
                changed[key] = old
            continue
        _compare(changed, key, old, new)
    if len(after) != len(before) - absent:
        appeared = [key for key, new in after.items() if new is not None and key not in before]
        if appeared:
            # The records' field order: an appeared key goes right before the key it
            # precedes in ``after`` (last if none), not last (an update setting
            # individual_name put it after name).
            position = {key: float(n) for n, key in enumerate(before)}
            following = float(len(before))
            for key in list(after)[::-1]:
                following = position.setdefault(key, following - 1e-6)
            for key in appeared:
                changed[key] = None
            changed = dict(sorted(changed.items(), key=lambda item: position[item[0]]))
    return changed


def changes(before: Mapping[str, Any], after: Mapping[str, Any], keys: Iterable[str]) -> bool:
    """Whether ``previous_attributes(before, after, keys)`` holds anything, without making
    it: a key is in it exactly when its values are not the same object and differ in type
    or by ``!=`` (``_compare``: an object that differs gets its changed keys, even none).
    The service decides with this whether an update records an event, and leaves the diff
    to the store (``store.base.PreviousAttributes``)."""
    get, before_get = after.get, before.get
    for key in keys:
        old, new = before_get(key), get(key)
        if old is not new and (type(old) is not type(new) or old != new):
            return True
    return False


def _compare(changed: dict[str, Any], key: str, old: Any, new: Any) -> None:
    """Put the old value of ``key`` into ``changed`` if it differs from the new one (only
    the changed keys of an object present on both sides)."""
    if old is new:
        return
    kind = type(old)
    if kind is type(new):  # the usual case, told apart without a call
        if old == new:
            return
        if kind is dict:
            changed[key] = previous_attributes(old, new)
            return
        if kind in _JSON_VALUES:
            changed[key] = old
            return
    if _is_mapping(old) and _is_mapping(new):
        changed[key] = previous_attributes(old, new)
    else:
        changed[key] = old


def _is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    # Records hold plain dicts and JSON values: skip the slower abstract-class check
    # (about 0.3 us a call) for them.
    kind = type(value)
    return kind is dict or (kind not in _JSON_VALUES and isinstance(value, Mapping))
