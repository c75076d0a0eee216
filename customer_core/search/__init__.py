"""Customer search: Stripe's query language parsed into an AST, evaluated by the stores.

``parse`` (parser.py) turns a query into a ``Query`` of ``Clause``s (ast.py);
``matches`` (evaluate.py) is the one definition of what a clause means; ``plan``
(plan.py) tells a store which index can answer a query instead of a scan.
"""

from .ast import FIELD_TYPES, Clause, Query
from .evaluate import contains_phrase, field_words, matches
from .parser import QueryError, parse

__all__ = [
    "FIELD_TYPES",
    "Clause",
    "Query",
    "QueryError",
    "contains_phrase",
    "field_words",
    "matches",
    "parse",
]
