"""What the SQL stores (SQLite and PostgreSQL) share: the rows of the search posting
tables, the queries both ask in the same words, the consistency check of those tables,
and the JSON text of an event composed from its parts (``event_body``, which the memory
store uses too).

The two dialects differ here only in the parameter marker (``?`` or ``%s``) and in how a
``LIMIT`` says "no limit" (SQLite: -1, PostgreSQL: NULL); a ``Dialect`` holds both.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pydantic_core

from ..models import API_VERSION
from ..search.ast import STRING_FIELDS
from ..search.evaluate import index_terms, value_key
from .base import SAFE_JSON_TEXT, KeyRange, Record, require

Postings = set[tuple[str, str, int, str]]
"""Rows of customer_metadata ``(key, lowercase value, created, customer_id)`` or of
customer_words ``(field, term, created, customer_id)``."""

_POSTING_TABLES = (("customer_metadata", "key", "value"), ("customer_words", "field", "word"))
"""Posting tables and their two leading columns; all end with ``created, customer_id``."""


def _metadata_postings(customer_id: str, created: int, metadata: dict[str, str] | None) -> Postings:
    """The customer_metadata rows of a record."""
    if not metadata:
        return set()
    return {(key, value_key(value), created, customer_id) for key, value in metadata.items()}


def _word_postings(customer_id: str, created: int, record: Record) -> Postings:
    """The customer_words rows of a record: one per index term (distinct word or pair of
    adjacent words) of each string field."""
    return {
        (field, term, created, customer_id)
        for field in STRING_FIELDS
        if (text := record.get(field))
        for term in index_terms(field, text)
    }


def _postings(customer_id: str, created: int, record: Record) -> dict[str, Postings]:
    """Every posting table's rows of a record, by table."""
    return {
        "customer_metadata": _metadata_postings(customer_id, created, record.get("metadata")),
        "customer_words": _word_postings(customer_id, created, record),
    }


def check_customer(
    connection: Any, dialect: Dialect, record: Record, expected: dict[str, Postings]
) -> None:
    """The part of ``check_consistency`` both SQL stores share about one live customer's
    ``record``: its invoice prefix is reserved for it; its postings join ``expected``."""
    customer_id, prefix = record["id"], record.get("invoice_prefix")
    if prefix is not None:
        holder = connection.execute(
            f"SELECT customer_id FROM invoice_prefixes WHERE prefix = {dialect.marker}", (prefix,)
        ).fetchone()
        require(
            holder is not None and tuple(holder) == (customer_id,),
            f"invoice prefix {prefix} of {customer_id} is not reserved for it",
        )
    for table, postings in _postings(customer_id, record["created"], record).items():
        expected[table] |= postings


def check_postings_and_tax_ids(
    connection: Any,
    expected: dict[str, Postings],
    optional: dict[str, Postings] | None = None,
) -> None:
    """The part of ``check_consistency`` both SQL stores share (``connection`` is a DB-API
    connection with ``execute``): each posting table holds exactly the postings of the
    records (but for those in ``optional``, which may be missing), and every tax ID's key
    columns match its body."""
    for table, first, second in _POSTING_TABLES:
        stored = set(
            connection.execute(
                f"SELECT {first}, {second}, created, customer_id FROM {table}"
            ).fetchall()
        )
        may_miss = optional[table] if optional else set()
        require(
            stored <= expected[table] and expected[table] - stored <= may_miss,
            f"{table} does not hold exactly its records' postings",
        )
    for customer_id, created, tax_id, body in connection.execute(
        "SELECT customer_id, created, id, body FROM tax_ids"
    ):
        record = pydantic_core.from_json(body)
        require(
            (record["customer"], record["created"], record["id"]) == (customer_id, created, tax_id),
            f"the columns of tax ID {tax_id} do not match its body",
        )


Query = tuple[str, list[Any]]
"""A statement and its arguments."""


@dataclass(frozen=True)
class Dialect:
    """Builds the queries the SQL stores share, with this dialect's parameter ``marker``
    and the ``LIMIT`` argument meaning "no limit"."""

    marker: str
    no_limit: int | None
    may_contain: str
    """A condition on ``body`` and one argument (lowercase text matched by SAFE_JSON_TEXT),
    true of every body whose record may hold a value containing the text in any letter
    case, false of most others."""

    def range_conditions(
        self, key_range: KeyRange, id_column: str = "id", created_column: str = "created"
    ) -> tuple[list[str], list[Any]]:
        """Row-value conditions for a KeyRange; both databases answer them from the
        ``(created, id)`` index."""
        conditions: list[str] = []
        arguments: list[Any] = []
        key = f"({created_column}, {id_column})"
        pair = f"({self.marker}, {self.marker})"
        if key_range.lower is not None:
            conditions.append(f"{key} {'>=' if key_range.lower_inclusive else '>'} {pair}")
            arguments.extend(key_range.lower)
        if key_range.upper is not None:
            conditions.append(f"{key} {'<=' if key_range.upper_inclusive else '<'} {pair}")
            arguments.extend(key_range.upper)
        return conditions, arguments

    def containing(self, text: str, key_range: KeyRange) -> tuple[list[str], list[Any]] | None:
        """Conditions narrowing a scan for ``text`` in the database (so that the bodies
        that cannot hold it are neither sent nor decoded); None when ``text`` holds
        characters JSON may escape (the caller scans everything)."""
        if not SAFE_JSON_TEXT.fullmatch(text):
            return None
        conditions, arguments = self.range_conditions(key_range)
        return [*conditions, self.may_contain], [*arguments, text.lower()]

    def limit(self, limit: int | None) -> int | None:
        """The ``LIMIT`` argument of ``limit`` (None: no limit)."""
        return self.no_limit if limit is None else limit

    def page(
        self,
        table: str,
        conditions: Sequence[str],
        arguments: Sequence[Any],
        *,
        descending: bool,
        limit: int | None,
        columns: str = "body",
    ) -> Query:
        """``columns`` of the rows of ``table`` meeting ``conditions``, in ``(created, id)``
        order, at most ``limit``."""
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        direction = "DESC" if descending else "ASC"
        query = (
            f"SELECT {columns} FROM {table} {where}"
            f"ORDER BY created {direction}, id {direction} LIMIT {self.marker}"
        )
        return query, [*arguments, self.limit(limit)]

    def metadata_keys(self, key: str, value: str, key_range: KeyRange, limit: int) -> Query:
        """Sort keys of the customers whose metadata ``key`` has ``value``, newest first."""
        conditions, arguments = self.range_conditions(key_range, id_column="customer_id")
        where = " AND ".join([f"key = {self.marker}", f"value = {self.marker}", *conditions])
        query = (
            f"SELECT created, customer_id FROM customer_metadata WHERE {where} "
            f"ORDER BY created DESC, customer_id DESC LIMIT {self.marker}"
        )
        return query, [key, value, *arguments, limit]

    def word_keys(self, field: str, terms: Sequence[str], key_range: KeyRange, limit: int) -> Query:
        """Sort keys of the customers whose ``field`` has every one of ``terms`` (distinct),
        newest first: a walk of the first term's postings, each other term an index probe."""
        conditions, arguments = self.range_conditions(key_range, id_column="customer_id")
        has_term = (
            f"EXISTS (SELECT 1 FROM customer_words WHERE field = w.field AND word = {self.marker} "
            "AND created = w.created AND customer_id = w.customer_id)"
        )
        others = [has_term] * (len(terms) - 1)
        where = " AND ".join(
            [f"field = {self.marker}", f"word = {self.marker}", *conditions, *others]
        )
        query = (
            f"SELECT created, customer_id FROM customer_words AS w WHERE {where} "
            f"ORDER BY created DESC, customer_id DESC LIMIT {self.marker}"
        )
        return query, [field, terms[0], *arguments, *terms[1:], limit]

    def event_scan(
        self,
        key_range: KeyRange,
        *,
        descending: bool,
        types: Collection[str] | None,
        limit: int | None,
    ) -> Query | None:
        """Bodies of the events in ``key_range`` (of ``types`` if given), in key order; None
        when ``types`` is empty (no event can match)."""
        conditions, arguments = self.range_conditions(key_range)
        if types is None:
            return self.page("events", conditions, arguments, descending=descending, limit=limit)
        names = sorted(set(types))
        if not names:
            return None
        # One walk of the type index per type (each stops at the limit), merged.
        walk, walk_arguments = self.page(
            "events",
            [f"type = {self.marker}", *conditions],
            arguments,
            descending=descending,
            limit=limit,
            columns="created, id, body",
        )
        walks = " UNION ALL ".join([f"SELECT * FROM ({walk}) AS w"] * len(names))
        direction = "DESC" if descending else "ASC"
        query = (
            f"SELECT body FROM ({walks}) AS e "
            f"ORDER BY created {direction}, id {direction} LIMIT {self.marker}"
        )
        values = [value for name in names for value in (name, *walk_arguments)]
        return query, [*values, self.limit(limit)]


SQLITE = Dialect(marker="?", no_limit=-1, may_contain="customer_core_may_contain(body, ?)")
"""SQLite, with the store's function ``customer_core_may_contain`` (see sqlite._may_contain)."""
POSTGRES = Dialect(
    marker="%s",
    no_limit=None,
    # A body without non-ASCII characters or \u escapes holds the text in any letter case
    # iff its ASCII lowercase does.
    may_contain='(strpos(lower(body COLLATE "C"), %s) > 0 OR octet_length(body) <> length(body) '
    "OR strpos(body, '\\u') > 0)",
)


# --- the webhook outbox's SQL (statements with %s markers: SQLite's replace them by ?) ---

_OUTBOX_COLUMNS = "event_id, endpoint_id, created, next_attempt, attempts, status"
_OUTBOX_INSERT = f"INSERT INTO webhook_outbox ({_OUTBOX_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)"
_OUTBOX_NEXT_DUE = (
    "SELECT next_attempt FROM webhook_outbox WHERE status = 'pending' ORDER BY next_attempt LIMIT 1"
)
_OUTBOX_DUE = (
    f"SELECT {_OUTBOX_COLUMNS} FROM webhook_outbox WHERE status = 'pending' "
    "AND next_attempt <= %s ORDER BY next_attempt LIMIT %s"
)
_OUTBOX_LEASE = (
    "UPDATE webhook_outbox SET next_attempt = %s WHERE event_id = %s AND endpoint_id = %s"
)
_OUTBOX_UPDATE = (
    "UPDATE webhook_outbox SET next_attempt = %s, attempts = %s, status = %s "
    "WHERE event_id = %s AND endpoint_id = %s"
)
_OUTBOX_DELETE = "DELETE FROM webhook_outbox WHERE event_id = %s AND endpoint_id = %s"
_OUTBOX_EVENTS = "SELECT DISTINCT event_id FROM webhook_outbox"


def _oldest(table: str, key: str, where: str, order: str, *, postgres: bool) -> str:
    """A DELETE of the rows of ``table`` that match ``where`` (its ``%s``: the time before
    which rows go), at most ``%s`` of them, the first in ``order`` (an index's). PostgreSQL
    plans ``IN (SELECT ...)`` as a hash join over the whole table once the table is small
    next to the limit; ``= ANY(ARRAY(...))`` probes the primary key once a chosen row."""
    chosen = f"SELECT {key} FROM {table} WHERE {where} ORDER BY {order} LIMIT %s"
    if postgres and "," not in key:
        return f"DELETE FROM {table} WHERE {key} = ANY(ARRAY({chosen}))"
    return f"DELETE FROM {table} WHERE ({key}) IN ({chosen})"


class Purges(NamedTuple):
    """One dialect's bounded purge statements (``Store.idempotency_purge``,
    ``outbox_purge``), each given the time before which rows go and how many it may
    remove. SQLite's have %s markers too (its store replaces them by ?)."""

    idempotency: str
    outbox: tuple[str, str]


def _purges(*, postgres: bool) -> Purges:
    return Purges(
        _oldest("idempotency_keys", "key", "created < %s", "created, key", postgres=postgres),
        (
            # Given-up deliveries, read off the partial index webhook_outbox_given_up
            # (its WHERE and order are these): the pending ones are not walked.
            _oldest(
                "webhook_outbox",
                "event_id, endpoint_id",
                "status = 'failed' AND created < %s",
                "created, event_id, endpoint_id",
                postgres=postgres,
            ),
            _oldest("webhook_attempts", "id", "created < %s", "created, id", postgres=postgres),
        ),
    )


SQLITE_PURGES = _purges(postgres=False)
POSTGRES_PURGES = _purges(postgres=True)
POSTGRES_EVENT_PURGE = _oldest("events", "id", "created < %s", "created, id", postgres=True)
"""``PostgresStore.event_purge`` (SQLite's events are in tables per type: sqlite_events)."""

_ATTEMPT_GET = "SELECT body FROM webhook_attempts WHERE id = %s"
_OUTBOX_CANCEL = "DELETE FROM webhook_outbox WHERE endpoint_id = %s"


def _outbox_row(delivery: Record) -> tuple[Any, ...]:
    return (
        delivery["event"],
        delivery["endpoint"],
        delivery["created"],
        delivery["next_attempt"],
        delivery["attempts"],
        delivery["status"],
    )


def _delivery(row: Sequence[Any], next_attempt: float | None = None) -> Record:
    """A delivery record from an outbox row (``next_attempt`` given: as leased)."""
    event_id, endpoint_id, created, stored_next_attempt, attempts, status = row
    return {
        "event": event_id,
        "endpoint": endpoint_id,
        "created": created,
        "next_attempt": stored_next_attempt if next_attempt is None else next_attempt,
        "attempts": attempts,
        "status": status,
    }


def _delivery_ids(deliveries: Sequence[Record]) -> str:
    """The keys of deliveries, for a DuplicateKeyError's value."""
    return ", ".join(f"{d['event']}/{d['endpoint']}" for d in deliveries)


def _settled(deliveries: Sequence[Record]) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
    """``outbox_settle``'s deliveries as the parameters of its UPDATE and its DELETE."""
    kept = [
        (d["next_attempt"], d["attempts"], d["status"], d["event"], d["endpoint"])
        for d in deliveries
        if d["status"] in ("pending", "failed")
    ]
    removed = [
        (d["event"], d["endpoint"]) for d in deliveries if d["status"] not in ("pending", "failed")
    ]
    return kept, removed


def _attempt_row(attempt: Record) -> tuple[Any, ...]:
    return (
        attempt["id"],
        attempt["created"],
        attempt["endpoint"],
        pydantic_core.to_json(attempt).decode(),
    )


def attempt_page(
    dialect: Dialect,
    key_range: KeyRange,
    endpoint: str | None,
    *,
    descending: bool,
    limit: int | None,
) -> Query:
    """``delivery_attempt_scan``'s query: attempt bodies in key order, to one endpoint."""
    conditions, arguments = dialect.range_conditions(key_range)
    if endpoint is not None:
        conditions.insert(0, f"endpoint_id = {dialect.marker}")
        arguments.insert(0, endpoint)
    return dialect.page(
        "webhook_attempts", conditions, arguments, descending=descending, limit=limit
    )


def event_body(
    event_id: str,
    created: int,
    type: str,
    object_text: str,
    request_id: str | None,
    idempotency_key: str | None,
    pending_webhooks: int,
    previous_text: str | None,
) -> str | None:
    """The JSON text of the event ``store.base.event_of`` makes of these parts, put
    together from them: ``object_text`` and ``previous_text`` are the JSON of
    ``data.object`` and ``previous_attributes`` (the object's is the customer's text
    written just before, not encoded again). None unless the id is ``evt_`` and letters
    and digits and the type is ours, which go in as they are (JSON would not escape them).
    """
    if not (event_id[4:].isalnum() and event_id.startswith("evt_")):
        return None
    if request_id is None and idempotency_key is None and pending_webhooks == 0:
        # Nearly every event (no request id or key, no webhook deliveries): what follows
        # the object is fixed for its type (_QUIET_TAILS), and one f-string makes the body.
        tail = _QUIET_TAILS.get(type)
        if tail is not None:
            if previous_text is None:
                return f'{{"id":"{event_id}{_AFTER_ID}{int(created)},"data":{{"object":{object_text}{tail}'
            return (
                f'{{"id":"{event_id}{_AFTER_ID}{int(created)},"data":{{"object":{object_text},'
                f'"previous_attributes":{previous_text}{tail}'
            )
    if type not in _TYPES:
        return None
    if previous_text is not None:
        object_text = f"{object_text},{_PREVIOUS}{previous_text}"
    request = (
        _NO_REQUEST
        if request_id is None and idempotency_key is None
        else f'{{"id":{_text(request_id)},"idempotency_key":{_text(idempotency_key)}}}'
    )
    # One f-string, no format specs (a spec sends an int through its __format__).
    return (
        f'{{"id":"{event_id}","object":"event","api_version":{_API_VERSION},'
        f'"created":{int(created)},"data":{{"object":{object_text}}},"livemode":false,'
        f'"pending_webhooks":{int(pending_webhooks)},"request":{request},"type":"{type}"}}'
    )


def _text(value: str | None) -> str:
    """A string (or null) as JSON."""
    return "null" if value is None else pydantic_core.to_json(value).decode()


_PREVIOUS = '"previous_attributes":'
_NO_REQUEST = '{"id":null,"idempotency_key":null}'


_API_VERSION = pydantic_core.to_json(API_VERSION).decode()
_TYPES = frozenset(
    {
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "customer.tax_id.created",
        "customer.tax_id.updated",
        "customer.tax_id.deleted",
    }
)
"""The types ``event_body`` writes as they are."""
_AFTER_ID = f'","object":"event","api_version":{_API_VERSION},"created":'
_QUIET_TAILS = {
    name: f'}},"livemode":false,"pending_webhooks":0,"request":{_NO_REQUEST},"type":"{name}"}}'
    for name in _TYPES
}
"""What follows ``data``'s object (and ``previous_attributes``) in the body of an event
of each type with no request id or key and no pending webhooks."""
