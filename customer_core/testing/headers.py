"""HTTP headers as real clients hand them over: names matched whatever their case.

``requests`` (``CaseInsensitiveDict``), ``httpx`` (``Headers``) and every web framework
let ``headers["Stripe-Signature"]`` and ``headers.get("request-id")`` find the same
header; test doubles that give a plain lowercase dict would fail code written against them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

__all__ = ["Headers"]


class Headers(Mapping[str, str]):
    """A read-only mapping of header names to values, looked up case-insensitively.

    Iteration gives the names as they were given.

    >>> headers = Headers([("Request-Id", "req_123")])
    >>> headers["request-id"], headers.get("REQUEST-ID"), list(headers)
    ('req_123', 'req_123', ['Request-Id'])
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        # name lowercased -> (name as given, value); a repeated name keeps its last value
        self._items = {name.lower(): (name, value) for name, value in pairs}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        """Equal to any mapping with the same names (whatever their case) and values."""
        if not isinstance(other, Mapping):
            return NotImplemented
        return len(other) == len(self) and all(
            isinstance(name, str) and name in self and self[name] == value
            for name, value in other.items()
        )

    __hash__ = None  # type: ignore[assignment]  # equal to mutable dicts: unhashable like them

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"
