"""The search query AST: a flat list of clauses joined by AND or by OR (never both)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Clause", "FIELD_TYPES", "Query", "STRING_FIELDS"]

FieldType = Literal["numeric", "string", "token"]

FIELD_TYPES: dict[str, FieldType] = {
    "created": "numeric",
    "email": "string",
    "metadata": "token",
    "name": "string",
    "phone": "string",
}
"""The searchable customer fields and their types (Stripe's search docs)."""

STRING_FIELDS = tuple(field for field, kind in FIELD_TYPES.items() if kind == "string")
"""``email``, ``name``, ``phone``: the fields whose words stores index for ``:``."""


@dataclass(frozen=True)
class Clause:
    """``[-]field[key] operator value``; ``value`` None means the ``null`` token."""

    field: str
    operator: str
    value: str | int | None
    key: str | None = None
    negated: bool = False


@dataclass(frozen=True)
class Query:
    """Clauses joined by ``conjunction``: all must hold (AND) or any (OR)."""

    clauses: tuple[Clause, ...]
    conjunction: Literal["AND", "OR"] = "AND"
