"""PostgresStore: customers in a PostgreSQL database shared by many processes and hosts.

Needs the optional extra ``customer-core[postgres]`` (psycopg 3 and psycopg_pool).

- Schema: tables in one PostgreSQL schema (``public`` unless ``schema=`` says otherwise),
  a ``schema_version`` table and forward migrations, run once under an advisory lock
  however many processes start at the same moment. A newer schema is refused.
- Writes: every store call is one transaction (a savepoint inside a caller's
  ``transaction()`` block, so a refused call changes nothing and the block goes on).
  Concurrency is row locks, not a global lock: inside a transaction block ``get`` takes
  the customer's row lock (``SELECT ... FOR UPDATE``), so read-modify-write cycles of
  several processes on one customer queue up instead of losing updates, while writes to
  other customers run in parallel; an idempotency key's lookup takes an advisory lock on
  the key. Ids and invoice prefixes are unique by primary keys (a tombstone is a row of
  the customers table, so its id stays taken). A deadlock or serialization failure of a
  call outside a caller's block is retried by the store; see docs/decisions.md.
- Threads: a transaction block holds one pooled connection, and the threads of one
  process take turns on blocks (a process-wide lock, as SQLite's write lock: commits come
  in the order blocks began, which in-process event subscribers rely on); other processes
  and hosts run beside them under the row locks. Reads outside a block take any pooled
  connection, in autocommit, one round trip, and never wait for a block.
- Failures are StoreErrors naming the database (never its password): the server gone
  (a call whose transaction never reached COMMIT is retried once on a fresh connection,
  so the store recovers by itself when the server is back), pool exhaustion, statement
  timeouts, a wrong DSN or password.
- Records are compact JSON text (``json`` would keep it too, ``jsonb`` would reorder keys).
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, NamedTuple, TypeVar

import psycopg
import pydantic_core
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from ..errors import DuplicateKeyError, RecordNotFoundError, StoreClosedError, StoreError
from .base import (
    PURGE_LIMIT,
    BlockDepth,
    Checkpoint,
    KeyRange,
    Record,
    SortKey,
    Store,
    StoreSnapshot,
    ThreadBlock,
    event_of,
    keeps_writes,
    require,
)
from .sql import (
    _ATTEMPT_GET,
    _OUTBOX_CANCEL,
    _OUTBOX_DUE,
    _OUTBOX_EVENTS,
    _OUTBOX_INSERT,
    _OUTBOX_NEXT_DUE,
    _POSTING_TABLES,
    POSTGRES,
    POSTGRES_EVENT_PURGE,
    POSTGRES_PURGES,
    Postings,
    _attempt_row,
    _delivery,
    _delivery_ids,
    _outbox_row,
    _postings,
    _settled,
    attempt_page,
    check_customer,
    check_postings_and_tax_ids,
    event_body,
)

__all__ = ["SCHEMA_VERSION", "PostgresStore"]

T = TypeVar("T")
Connection = psycopg.Connection[Any]
Cursor = psycopg.Cursor[Any]
Statement = tuple[str, Sequence[Any] | Mapping[str, Any]]
EventParts = tuple[str, int, str, str | None, str | None, int]
"""An event's id, created time, type, request id, idempotency key and pending_webhooks."""


class _Deferred(NamedTuple):
    """A write inside a transaction block whose answer nobody waits for (an event's row,
    its deliveries): sent with the block's next statement or its COMMIT, in one round
    trip. ``table`` and ``refusal`` turn a unique violation into the DuplicateKeyError
    the call would have raised."""

    query: str
    arguments: Sequence[Any]
    table: str
    refusal: Callable[[], DuplicateKeyError]


# Each entry migrates the schema from version N to N + 1; never edit a released one.
# Text keys compare in "C" collation: byte order of UTF-8, which is Python's str order.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE customers (
            id text COLLATE "C" PRIMARY KEY,
            created bigint NOT NULL,
            deleted boolean NOT NULL DEFAULT false,
            email text COLLATE "C",
            invoice_prefix text COLLATE "C",
            body text
        )""",
        "CREATE INDEX customers_live ON customers (created, id) WHERE NOT deleted",
        """CREATE INDEX customers_by_email ON customers (email, created, id)
            WHERE NOT deleted AND email IS NOT NULL""",
        """CREATE TABLE invoice_prefixes (
            prefix text COLLATE "C" PRIMARY KEY,
            customer_id text COLLATE "C" NOT NULL
        )""",
        "CREATE INDEX invoice_prefixes_by_customer ON invoice_prefixes (customer_id, prefix)",
        """CREATE TABLE customer_metadata (
            key text COLLATE "C" NOT NULL,
            value text COLLATE "C" NOT NULL,
            created bigint NOT NULL,
            customer_id text COLLATE "C" NOT NULL,
            PRIMARY KEY (key, value, created, customer_id)
        )""",
        """CREATE TABLE customer_words (
            field text COLLATE "C" NOT NULL,
            word text COLLATE "C" NOT NULL,
            created bigint NOT NULL,
            customer_id text COLLATE "C" NOT NULL,
            PRIMARY KEY (field, word, created, customer_id)
        )""",
        """CREATE TABLE idempotency_keys (
            key text COLLATE "C" PRIMARY KEY,
            created bigint NOT NULL,
            entry text NOT NULL
        )""",
        "CREATE INDEX idempotency_keys_by_created ON idempotency_keys (created)",
        """CREATE TABLE tax_ids (
            customer_id text COLLATE "C" NOT NULL,
            created bigint NOT NULL,
            id text COLLATE "C" NOT NULL,
            body text NOT NULL,
            PRIMARY KEY (customer_id, created, id)
        )""",
        "CREATE UNIQUE INDEX tax_ids_by_id ON tax_ids (id)",
    ),
    (
        # Events (customer_core.events), written in the transaction of the change they record.
        """CREATE TABLE events (
            id text COLLATE "C" PRIMARY KEY,
            created bigint NOT NULL,
            type text COLLATE "C" NOT NULL,
            body text NOT NULL
        )""",
        "CREATE INDEX events_by_created ON events (created, id)",
        "CREATE INDEX events_by_type ON events (type, created, id)",
    ),
    (
        # Webhook endpoints (customer_core.events.webhooks), with their signing secrets.
        """CREATE TABLE webhook_endpoints (
            id text COLLATE "C" PRIMARY KEY,
            created bigint NOT NULL,
            body text NOT NULL
        )""",
        "CREATE INDEX webhook_endpoints_by_created ON webhook_endpoints (created, id)",
    ),
    (
        # Webhook deliveries (customer_core.events.outbox): one row per event and endpoint,
        # written in the event's transaction, removed once delivered; and their attempts.
        """CREATE TABLE webhook_outbox (
            event_id text COLLATE "C" NOT NULL,
            endpoint_id text COLLATE "C" NOT NULL,
            created double precision NOT NULL,
            next_attempt double precision NOT NULL,
            attempts integer NOT NULL,
            status text NOT NULL,
            PRIMARY KEY (event_id, endpoint_id)
        )""",
        "CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt) WHERE status = 'pending'",
        """CREATE TABLE webhook_attempts (
            id text COLLATE "C" PRIMARY KEY,
            created bigint NOT NULL,
            endpoint_id text COLLATE "C" NOT NULL,
            body text NOT NULL
        )""",
        "CREATE INDEX webhook_attempts_by_created ON webhook_attempts (created, id)",
        "CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, created, id)",
    ),
    (
        # Given-up deliveries in the order outbox_purge takes them: a purge reads its bite
        # instead of scanning the outbox (which grows with the pending deliveries).
        """CREATE INDEX webhook_outbox_given_up ON webhook_outbox (created, event_id, endpoint_id)
            WHERE status = 'failed'""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_EVENT_INSERT = "INSERT INTO events (id, created, type, body) VALUES (%s, %s, %s, %s)"

_MIGRATION_LOCK = "customer_core.migrate"
RETRIES = 5
"""Attempts of a call that meets a deadlock or serialization failure (outside a block)."""
_RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)


def _encode(value: dict[str, Any]) -> str:
    return pydantic_core.to_json(value).decode()


_decode = pydantic_core.from_json


def _event_taken(event_id: str) -> DuplicateKeyError:
    return DuplicateKeyError(f"Event id {event_id} is already taken.", key="id", value=event_id)


def _unstored(key: str) -> bool:
    """Whether no row can have ``key``: PostgreSQL's text holds no NUL, so no id with one
    was ever stored (and psycopg refuses to send one). A path id can carry it (``%00``)."""
    return "\x00" in key


def _lock_key(text: str) -> int:
    """A signed 64-bit advisory lock key for ``text``."""
    return int.from_bytes(
        hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True
    )


_POSTING_SQL = {
    table: (
        f"DELETE FROM {table} WHERE ({first}, {second}, created, customer_id) IN "
        "(SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[]))",
        f"INSERT INTO {table} ({first}, {second}, created, customer_id) "
        "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[])",
    )
    for table, first, second in _POSTING_TABLES
}


_INSERT_WRITES = """WITH prefix AS (
    INSERT INTO invoice_prefixes (prefix, customer_id)
    SELECT %(prefix)s, %(id)s
    WHERE %(prefix)s::text IS NOT NULL AND NOT EXISTS (SELECT FROM customers WHERE id = %(id)s)
    ON CONFLICT (prefix) DO UPDATE SET customer_id = excluded.customer_id
    WHERE invoice_prefixes.customer_id = excluded.customer_id
    RETURNING xmax = 0 AS new
), customer AS (
    INSERT INTO customers (id, created, email, invoice_prefix, body)
    SELECT %(id)s, %(created)s, %(email)s, %(prefix)s, %(body)s
    WHERE %(prefix)s::text IS NULL OR EXISTS (SELECT FROM prefix)
    ON CONFLICT (id) DO NOTHING
    RETURNING created
), metadata AS (
    INSERT INTO customer_metadata (key, value, created, customer_id)
    SELECT m.key, m.value, customer.created, %(id)s
    FROM customer, unnest(%(keys)s::text[], %(values)s::text[]) AS m (key, value)
), words AS (
    INSERT INTO customer_words (field, word, created, customer_id)
    SELECT w.field, w.word, customer.created, %(id)s
    FROM customer, unnest(%(fields)s::text[], %(words)s::text[]) AS w (field, word)
)"""
_INSERT_RESULT = """
SELECT
    EXISTS (SELECT FROM customer),
    (SELECT new FROM prefix),
    EXISTS (SELECT FROM invoice_prefixes WHERE prefix = %(prefix)s AND customer_id <> %(id)s),
    EXISTS (SELECT FROM customers WHERE id = %(id)s)"""
_INSERT = _INSERT_WRITES + _INSERT_RESULT
"""A customer's insert in one statement: its invoice prefix reserved (unless the id is
taken), the customer (only if the prefix was reserved), its postings (only if it was
inserted); then whether it was inserted, whether the prefix was newly reserved, and, as
the statement began, whether another customer held the prefix and whether the id was
taken. A refused insert changes nothing, but for the prefix of an id another writer
inserted meanwhile (``_insert`` gives it up)."""
_INSERT_WITH_EVENT = (
    _INSERT_WRITES
    + """, event AS (
    INSERT INTO events (id, created, type, body)
    SELECT %(event_id)s, %(event_created)s, %(event_type)s, %(event_body)s FROM customer
)"""
    + _INSERT_RESULT
)
"""``_INSERT`` and the customer's event, written only if the customer is (a taken event
id fails the whole statement): ``insert_with_event`` in one statement, as ``insert``."""


def _columns(rows: Postings) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


def _rewrite_postings(
    connection: Connection, old: dict[str, Postings], new: dict[str, Postings]
) -> None:
    """Change every posting table's rows of one customer from ``old`` to ``new``, touching
    only the differences (one statement per table and direction)."""
    for table, (delete, insert) in _POSTING_SQL.items():
        before, after = old.get(table, set()), new.get(table, set())
        if removed := before - after:
            connection.execute(delete, _columns(removed))
        if added := after - before:
            connection.execute(insert, _columns(added))


def describe_dsn(dsn: str) -> str:
    """The DSN without its password, for messages: ``host=... port=... dbname=... user=...``.

    >>> describe_dsn("postgresql://app:s3cret@db.internal:5433/customers")
    'host=db.internal port=5433 dbname=customers user=app'
    """
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "(an invalid PostgreSQL connection string)"
    shown = {key: parts[key] for key in ("host", "port", "dbname", "user") if key in parts}
    return make_conninfo("", **shown) or "(the libpq defaults)"


def _refused(deferred: Iterable[_Deferred], error: pg_errors.UniqueViolation) -> Exception:
    """The DuplicateKeyError of the deferred write that ``error`` refused (the error
    itself if none of them wrote to its table)."""
    table = error.diag.table_name
    for write in deferred:
        if write.table == table:
            return write.refusal()
    return error


class _Conflict(Exception):
    """A batch insert met a conflict (found again record by record)."""


class _Local(BlockDepth):
    """One thread's transaction block: its connection and how deep it is; the
    connection (the block's or a lone write's) whose BEGIN is not sent yet; and the
    block's writes not sent yet (``PostgresStore._defer``)."""

    connection: Connection | None = None
    deferred_begin: Connection | None = None
    deferred: list[_Deferred] | None = None
    refused: Callable[[], DuplicateKeyError] | None = None
    """A refusal that aborted the block's transaction (``insert_with_event``'s event id):
    raised again at the block's end if the caller went on past it."""


class _Transaction(ThreadBlock):
    """``PostgresStore.transaction()``: a re-entrant block per thread, one pooled
    connection and one database transaction for the outermost block."""

    __slots__ = ("_store",)
    local: _Local

    def __init__(self, store: PostgresStore) -> None:
        super().__init__(store._local)
        self._store = store

    def _open(self) -> None:
        store = self._store
        # Threads of one process take turns on blocks, as on SQLite: commits happen in
        # the order blocks began, which in-process event subscribers rely on.
        store._block_lock.acquire()
        try:
            self.local.connection = store._take()
        except BaseException:
            store._block_lock.release()
            raise
        # BEGIN goes out with the block's first statement, in the same round trip.
        self.local.deferred_begin = self.local.connection
        self.local.deferred = []

    def _close(self, error: BaseException | None) -> None:
        store = self._store
        local = self.local
        connection, local.connection = local.connection, None
        began = local.deferred_begin is not connection
        local.deferred_begin = None
        deferred, local.deferred = local.deferred, None
        refused, local.refused = local.refused, None
        if connection is None:  # lost, and no other could be had (see _call)
            store._block_lock.release()
            return
        try:
            if error is None and refused is not None:
                # The caller went on past a refusal that aborted the transaction: COMMIT
                # would roll back without a word, so the block fails as it would have.
                try:
                    connection.execute("ROLLBACK")
                except psycopg.Error:
                    pass  # the connection is gone: the server rolled back
                raise refused()
            if error is None and deferred:
                # The writes not sent yet, then COMMIT: one round trip.
                store._commit_with(connection, deferred, begin=not began)
            elif not began:
                pass  # no statement ran in the block: there is no transaction to end
            elif error is None:
                try:
                    connection.execute("COMMIT")
                except psycopg.Error as failure:
                    raise store._fail("commit to", failure) from failure
            elif not connection.closed:
                try:
                    connection.execute("ROLLBACK")
                except psycopg.Error:
                    pass  # the connection is gone: the server rolled back
        finally:
            store._give_back(connection)
            store._block_lock.release()


UNAVAILABLE = 503
_FIRST_WAIT = 1.0
"""Seconds a call waits for a pooled connection before it checks that the server answers."""
"""The status of a failure that passes by itself (the server unreachable, the pool busy,
a conflict rolled back): a retry may succeed, as with a SQLite store that stayed locked."""

_MAX_IDENTIFIER_BYTES = 63
"""PostgreSQL's NAMEDATALEN - 1: a longer schema name is cut to it silently."""


def _check_options(schema: object, pool_timeout: object, statement_timeout: object) -> None:
    """Refuse options PostgreSQL would misread: a schema name it would cut short (two
    names would then share one schema), timeouts that are not numbers of seconds."""
    if not isinstance(schema, str) or not schema or "\x00" in schema:
        msg = f"Invalid schema: {schema!r}; expected a non-empty name."
        raise StoreError(msg)
    if len(schema.encode()) > _MAX_IDENTIFIER_BYTES:
        msg = (
            f"Invalid schema: {schema!r} is {len(schema.encode())} bytes long; PostgreSQL "
            f"keeps at most {_MAX_IDENTIFIER_BYTES} and would cut it short."
        )
        raise StoreError(msg)
    for name, value in (("pool_timeout", pool_timeout), ("statement_timeout", statement_timeout)):
        if value is None and name == "statement_timeout":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e9:
            msg = f"Invalid {name}: {value!r}; expected a positive number of seconds."
            raise StoreError(msg)


def _is_login_refused(error: psycopg.OperationalError) -> bool:
    """Whether the server answered and refused the credentials (SQLSTATE class 28), which
    libpq reports during connect as text only."""
    sqlstate = getattr(error, "sqlstate", None) or ""
    text = str(error)
    return sqlstate.startswith("28") or any(
        phrase in text
        for phrase in (
            "password authentication failed",
            "no password supplied",
            "authentication failed for user",
        )
    )


_CLAIM = (
    # SKIP LOCKED: workers of other processes claiming at once take other rows.
    f"WITH due AS ({_OUTBOX_DUE} FOR UPDATE SKIP LOCKED), "
    "leased AS (UPDATE webhook_outbox AS o SET next_attempt = %s FROM due "
    "WHERE o.event_id = due.event_id AND o.endpoint_id = due.endpoint_id "
    "RETURNING o.event_id, o.endpoint_id, o.created, o.next_attempt, o.attempts, o.status, "
    "due.next_attempt AS was_due) "
    "SELECT event_id, endpoint_id, created, next_attempt, attempts, status FROM leased "
    "ORDER BY was_due, event_id, endpoint_id"
)
"""``outbox_claim`` in one statement: the due rows locked, leased, and returned in the
order they were due."""
_OUTBOX_NEWEST = "SELECT max(event_id) FROM webhook_outbox"
ARRIVALS_COUNTED = 100
"""``outbox_arrivals`` counts this many at most (enough to tell a busy API)."""
_OUTBOX_ARRIVALS = (
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM webhook_outbox WHERE event_id > %s "
    f"ORDER BY event_id LIMIT {ARRIVALS_COUNTED}) AS added), "
    f"GREATEST(({_OUTBOX_NEWEST}), %s)"
)
"""``outbox_arrivals``: the deliveries of events newer than the mark, and the next mark.
The ordered, limited scan keeps a prepared (generic) plan on the primary key (~60-80 us
of server CPU a look): a plain count's generic plan scanned the whole outbox (~400 us
at 3,000 rows)."""
_SETTLE_UPDATE = (
    "UPDATE webhook_outbox AS o SET next_attempt = s.next_attempt, attempts = s.attempts, "
    "status = s.status FROM unnest(%s::float8[], %s::int[], %s::text[], %s::text[], "
    "%s::text[]) AS s(next_attempt, attempts, status, event_id, endpoint_id) "
    'WHERE o.event_id = s.event_id COLLATE "C" AND o.endpoint_id = s.endpoint_id COLLATE "C"'
)
_SETTLE_DELETE = (
    "DELETE FROM webhook_outbox AS o USING unnest(%s::text[], %s::text[]) AS s(event_id, "
    'endpoint_id) WHERE o.event_id = s.event_id COLLATE "C" '
    'AND o.endpoint_id = s.endpoint_id COLLATE "C"'
)
_ATTEMPTS_INSERT = (
    "INSERT INTO webhook_attempts (id, created, endpoint_id, body) "
    "SELECT * FROM unnest(%s::text[], %s::int8[], %s::text[], %s::text[])"
)
"""``outbox_settle``'s statements, a batch's rows passed as one array per column."""


def _as_arrays(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows as columns: one array parameter per column (``unnest`` makes them rows)."""
    return [list(column) for column in zip(*rows, strict=True)]


class PostgresStore(Store):
    """Customer records in a PostgreSQL database; shared safely by threads, processes and
    hosts.

    ``dsn`` is a libpq connection string or URI (``postgresql://user:password@host/db``).
    ``schema`` keeps the tables in that PostgreSQL schema (made if missing), so several
    stores can share one database. The pool holds ``min_size`` to ``max_size``
    connections; a call waits at most ``pool_timeout`` seconds for one. A statement
    running longer than ``statement_timeout`` seconds (None: the server's setting) is
    cancelled with a StoreError.
    """

    _one_call_writes: ClassVar[bool] = True
    """Whether ``insert_with_event`` writes customer and event in one statement
    (``keeps_writes``); else the port's default, built on the overrides."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._one_call_writes = keeps_writes(cls, PostgresStore)

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        min_size: int = 1,
        max_size: int = 10,
        pool_timeout: float = 30.0,
        statement_timeout: float | None = None,
        connect_timeout: int = 10,
    ) -> None:
        _check_options(schema, pool_timeout, statement_timeout)
        self.dsn = dsn
        self.schema = schema
        self.where = describe_dsn(dsn)
        if schema != "public":
            self.where += f" schema={schema}"
        self.pool_timeout = pool_timeout
        self.statement_timeout = statement_timeout
        self._closed = False
        self._local = _Local()
        self._block_lock = threading.Lock()
        self._in_use = 0  # connections taken from the pool and not given back
        self._in_use_lock = threading.Lock()
        self._transaction = _Transaction(self)
        self._tables: list[str] | None = None
        try:
            parts = conninfo_to_dict(dsn)
        except psycopg.Error as error:
            msg = (
                "Could not open the customer store: the DSN is not a valid PostgreSQL "
                "connection string or URI (postgresql://user:password@host:port/dbname)"
            )
            raise StoreError(msg) from error
        password = parts.get("password")
        self._password = None if password is None else str(password)
        options: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in parts:
            options["connect_timeout"] = connect_timeout
        self._connect_options = options
        self._migrate()
        self._pool = ConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            timeout=pool_timeout,
            kwargs=options,
            configure=self._configure,
            open=True,
            name=f"customer_core {self.where}",
        )

    # --- connections, migrations and error translation -----------------------------------

    def _configure(self, connection: Connection) -> None:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        if self.statement_timeout is not None:
            milliseconds = max(1, int(self.statement_timeout * 1000))
            connection.execute(f"SET statement_timeout = {milliseconds}")

    def _message(self, error: BaseException) -> str:
        text = str(error).strip()
        if self._password:
            text = text.replace(self._password, "***")
        return text

    def _fail(self, action: str, error: BaseException) -> StoreError:
        """The one place where psycopg errors become customer_core errors, naming the
        database and never its password."""
        where = f"Could not {action} the customer store {self.where}"
        if isinstance(error, StoreError):
            return error
        if isinstance(error, PoolClosed):
            return StoreClosedError(f"The customer store {self.where} is closed.")
        if isinstance(error, PoolTimeout):
            with self._in_use_lock:
                in_use = self._in_use
            if in_use < self._pool.max_size:
                # Not all connections are out: the pool could not open the ones it lacks.
                return StoreError(
                    f"{where}: the database server cannot be reached or closed the connection "
                    f"(no connection could be opened within {self.pool_timeout:g} s; "
                    f"{in_use} of {self._pool.max_size} in use)",
                    http_status=UNAVAILABLE,
                )
            return StoreError(
                f"{where}: no pooled connection was free within {self.pool_timeout:g} s "
                f"(all {self._pool.max_size} in use; raise max_size or pool_timeout)",
                http_status=UNAVAILABLE,
            )
        if isinstance(error, pg_errors.QueryCanceled):
            return StoreError(
                f"{where}: a statement ran longer than the statement timeout and was "
                f"cancelled ({self._message(error)})"
            )
        if isinstance(error, _RETRYABLE):
            return StoreError(
                f"{where}: the transaction conflicted with a concurrent one and was rolled "
                f"back; retry it ({self._message(error)})",
                http_status=UNAVAILABLE,
            )
        if isinstance(error, psycopg.OperationalError) and _is_login_refused(error):
            return StoreError(
                f"{where}: the database server refused the login; check the user and "
                f"password ({self._message(error)})"
            )
        if isinstance(error, psycopg.OperationalError):
            text = self._message(error)
            if "does not exist" in text:  # a database or role named wrong: no retry helps
                return StoreError(f"{where}: {text}")
            return StoreError(
                f"{where}: the database server cannot be reached or closed the connection ({text})",
                http_status=UNAVAILABLE,
            )
        return StoreError(f"{where}: {self._message(error)}")

    def _connect(self, action: str = "open") -> Connection:
        try:
            return psycopg.connect(self.dsn, **self._connect_options)
        except psycopg.Error as error:
            raise self._fail(action, error) from error

    def _migrate(self) -> None:
        with self._connect() as connection:
            try:
                self._configure(connection)
                if self._version(connection) == SCHEMA_VERSION:
                    return
                connection.execute("SELECT pg_advisory_lock(%s)", (_lock_key(_MIGRATION_LOCK),))
                try:
                    with connection.transaction():
                        schema = sql.Identifier(self.schema)
                        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
                        version = self._version(connection)
                        if version == 0:
                            connection.execute(
                                "CREATE TABLE schema_version (version integer NOT NULL)"
                            )
                            connection.execute("INSERT INTO schema_version VALUES (0)")
                        for number in range(version, SCHEMA_VERSION):
                            for step in MIGRATIONS[number]:
                                connection.execute(step)
                            connection.execute(
                                "UPDATE schema_version SET version = %s", (number + 1,)
                            )
                finally:
                    connection.execute(
                        "SELECT pg_advisory_unlock(%s)", (_lock_key(_MIGRATION_LOCK),)
                    )
            except psycopg.Error as error:
                raise self._fail("open", error) from error

    def _version(self, connection: Connection) -> int:
        """The schema version (0: no tables yet); a newer schema is refused."""
        exists = connection.execute(
            "SELECT to_regclass(format('%%I.schema_version', %s::text))", (self.schema,)
        ).fetchone()
        if exists is None or exists[0] is None:
            return 0
        row = connection.execute("SELECT max(version) FROM schema_version").fetchone()
        version = None if row is None else row[0]
        if version is None:
            msg = (
                f"Could not open the customer store {self.where}: its schema_version table is empty"
            )
            raise StoreError(msg)
        if version > SCHEMA_VERSION:
            msg = (
                f"Could not open the customer store {self.where}: it has schema version "
                f"{version}, newer than this customer_core understands ({SCHEMA_VERSION}); "
                "upgrade customer_core to open it"
            )
            raise StoreError(msg)
        return int(version)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError(f"The customer store {self.where} is closed.")

    def _take(self) -> Connection:
        self._check_open()
        first_wait = min(self.pool_timeout, _FIRST_WAIT)
        try:
            try:
                connection = self._pool.getconn(timeout=first_wait)
            except PoolTimeout:
                self._probe_server()
                connection = self._pool.getconn(timeout=self.pool_timeout - first_wait)
        except (PoolTimeout, PoolClosed) as error:
            raise self._fail("reach", error) from error
        with self._in_use_lock:
            self._in_use += 1
        return connection

    def _probe_server(self) -> None:
        """When the pool has no connection to give and could open more, see whether the
        server answers at all: a server that is down fails the call now (503, with the
        server's reason) instead of after the whole ``pool_timeout`` of reconnect tries."""
        with self._in_use_lock:
            in_use = self._in_use
        if in_use < self._pool.max_size:
            self._connect("reach").close()

    def _give_back(self, connection: Connection) -> None:
        with self._in_use_lock:
            self._in_use -= 1
        try:
            self._pool.putconn(connection)
        except PoolClosed:
            connection.close()

    def _recover(self) -> None:
        """After a broken connection: drop every idle connection that is broken too."""
        try:
            self._pool.check()
        except psycopg.Error:
            pass

    def _flush_begin(self, connection: Connection) -> None:
        """Send the deferred BEGIN of ``connection`` and the block's deferred writes now,
        if it has them."""
        local = self._local
        if local.deferred_begin is connection or (
            local.deferred and local.connection is connection
        ):
            self._execute(connection)

    def _execute(self, connection: Connection, *statements: Statement) -> list[Cursor]:
        """Run ``statements`` in one round trip (pipelined), after the deferred BEGIN of
        ``connection`` and the block's deferred writes, if it has them; their results are
        ready when this returns. Work run with ``pipelined=True`` sends its first
        statement through here."""
        local = self._local
        deferred = local.deferred if local.connection is connection else None
        if local.deferred_begin is not connection and not deferred and len(statements) == 1:
            return [connection.execute(*statements[0])]
        try:
            with connection.pipeline():
                if local.deferred_begin is connection:
                    connection.execute("BEGIN")
                for write in deferred or ():
                    connection.execute(write.query, write.arguments)
                cursors = [connection.execute(query, arguments) for query, arguments in statements]
        except pg_errors.UniqueViolation as error:
            # BEGIN went out (the transaction is aborted now): the caller rolls it back.
            if local.deferred_begin is connection:
                local.deferred_begin = None
            raise _refused(deferred or (), error) from None
        if local.deferred_begin is connection:
            local.deferred_begin = None
        if deferred:
            deferred.clear()
        return cursors

    def _defer(self, *writes: _Deferred) -> bool:
        """Inside a transaction block, keep ``writes`` to be sent with the block's next
        statement or its COMMIT (a round trip saved) and return True; outside one, False:
        the caller writes at once. A deferred write that is refused fails the block (its
        DuplicateKeyError comes from that statement or from the block's end), where an
        immediate one would leave the block going on; the writes deferred are those only
        a bug could make refused (an event id, its deliveries)."""
        self._check_open()
        local = self._local
        if local.connection is None or local.deferred is None:
            return False
        local.deferred.extend(writes)
        return True

    def _commit_with(
        self, connection: Connection, deferred: list[_Deferred], *, begin: bool
    ) -> None:
        """End a block: its deferred writes and COMMIT in one round trip (and BEGIN first if
        nothing was sent yet); a refused write rolls the whole block back.

        One simple-protocol query whose values psycopg's ClientCursor quotes on the client
        (the server stops at the first failing statement, so COMMIT runs only if every
        write did): it cost the client 130-150 us of CPU where a pipeline of the same
        statements cost 195-220 and three round trips 160-195 (benchmarks/RESULTS.md)."""
        statements = [write.query for write in deferred]
        if begin:
            statements.insert(0, "BEGIN")
        statements.append("COMMIT")
        values = [value for write in deferred for value in write.arguments]
        try:
            with psycopg.ClientCursor(connection) as cursor:
                cursor.execute("; ".join(statements), values)
        except psycopg.Error as failure:
            if not connection.closed and (
                connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
            ):
                try:
                    connection.execute("ROLLBACK")
                except psycopg.Error:
                    pass  # the connection is gone: the server rolled back
            if isinstance(failure, pg_errors.UniqueViolation):
                raise _refused(deferred, failure) from None
            raise self._fail("commit to", failure) from failure

    def _call(
        self,
        action: str,
        work: Callable[[Connection], T],
        *,
        write: bool,
        pipelined: bool = False,
        savepoint: bool = False,
    ) -> T:
        """Run ``work`` on a connection: inside this thread's transaction block, or alone
        (a write in a transaction of its own, retried on deadlocks, serialization failures
        and connections that died before COMMIT).

        A write refuses (DuplicateKeyError, RecordNotFoundError) before it changes
        anything, so inside a block it needs no savepoint, which would cost two round
        trips: only work that may refuse after a change asks for one (``savepoint``).
        ``pipelined`` work sends its first statement through ``_execute``, which carries
        a deferred BEGIN in the same round trip; before other work it is sent alone.
        """
        self._check_open()
        local = self._local
        connection = local.connection
        if connection is None and local.depth:
            msg = (
                f"Could not reach the customer store {self.where}: this transaction block "
                "lost its connection; leave the block and retry it"
            )
            raise StoreError(msg)
        if connection is not None:
            first = local.deferred_begin is connection
            while True:
                try:
                    if not pipelined or savepoint:
                        self._flush_begin(connection)
                    if write and savepoint:
                        with connection.transaction():
                            return work(connection)
                    return work(connection)
                except psycopg.OperationalError as error:
                    if not first or not connection.closed:
                        raise self._fail(action, error) from error
                    # The block's connection was dead before the block sent anything: go
                    # on with a fresh one (once), as a new block would.
                    first = False
                    self._give_back(connection)
                    local.connection = local.deferred_begin = None
                    self._recover()
                    connection = local.connection = self._take()
                    local.deferred_begin = connection
                except psycopg.Error as error:
                    raise self._fail(action, error) from error
        attempt = 0
        while True:
            attempt += 1
            connection = self._take()
            committing = False
            try:
                if not write:
                    return work(connection)
                if pipelined:
                    local.deferred_begin = connection
                else:
                    connection.execute("BEGIN")
                try:
                    result = work(connection)
                except BaseException:
                    if local.deferred_begin is not connection and not connection.closed:
                        connection.execute("ROLLBACK")
                    raise
                if local.deferred_begin is connection:
                    return result  # no statement was sent
                committing = True
                connection.execute("COMMIT")
                return result
            except _RETRYABLE as error:
                if attempt >= RETRIES:
                    raise self._fail(action, error) from error
                time.sleep(random.uniform(0, 0.01 * attempt))
            except psycopg.OperationalError as error:
                if committing or attempt >= 2 or not connection.closed:
                    raise self._fail(action, error) from error
                self._recover()
            except psycopg.Error as error:
                raise self._fail(action, error) from error
            finally:
                local.deferred_begin = None
                self._give_back(connection)

    def _read(self, action: str, work: Callable[[Connection], T]) -> T:
        return self._call(action, work, write=False)

    def _write(
        self,
        action: str,
        work: Callable[[Connection], T],
        *,
        pipelined: bool = False,
        savepoint: bool = False,
    ) -> T:
        return self._call(action, work, write=True, pipelined=pipelined, savepoint=savepoint)

    def _in_block(self) -> bool:
        return self._local.connection is not None

    def _content_tables(self, connection: Connection) -> list[str]:
        """Every table of the store's schema but schema_version, whoever added it."""
        rows = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s "
            "AND tablename <> 'schema_version' ORDER BY tablename",
            (self.schema,),
        ).fetchall()
        return [row[0] for row in rows]

    # --- the Store port ------------------------------------------------------------------

    def transaction(self) -> _Transaction:
        self._check_open()
        return self._transaction

    @staticmethod
    def _reserve_prefix(connection: Connection, prefix: str | None, customer_id: str) -> bool:
        """Reserve ``prefix`` for the customer; return whether it was not already (a row
        inserted has no ``xmax``; one the conflict clause touched has this transaction's)."""
        if prefix is None:
            return False
        row = connection.execute(
            "INSERT INTO invoice_prefixes (prefix, customer_id) VALUES (%s, %s) "
            "ON CONFLICT (prefix) DO UPDATE SET customer_id = excluded.customer_id "
            "WHERE invoice_prefixes.customer_id = excluded.customer_id RETURNING xmax = 0",
            (prefix, customer_id),
        ).fetchone()
        if row is None:
            msg = f"Invoice prefix {prefix} is already held by another customer."
            raise DuplicateKeyError(msg, key="invoice_prefix", value=prefix)
        return bool(row[0])

    def _insert(
        self, connection: Connection, record: Record, event: EventParts | None = None
    ) -> None:
        """Insert ``record``; with ``event`` (``insert_with_event``'s parts), its event too,
        in the same statement."""
        customer_id, prefix = record["id"], record.get("invoice_prefix")
        postings = _postings(customer_id, record["created"], record)
        metadata, words = postings["customer_metadata"], postings["customer_words"]
        body = _encode(record)
        arguments = {
            "id": customer_id,
            "created": record["created"],
            "email": record.get("email"),
            "prefix": prefix,
            "body": body,
            "keys": [row[0] for row in metadata],
            "values": [row[1] for row in metadata],
            "fields": [row[0] for row in words],
            "words": [row[1] for row in words],
        }
        if event is None:
            (cursor,) = self._execute(connection, (_INSERT, arguments))
        else:
            event_id, created, type, request_id, idempotency_key, pending_webhooks = event
            arguments["event_id"] = event_id
            arguments["event_created"] = created
            arguments["event_type"] = type
            # The customer's JSON goes into the event's as it was just encoded.
            arguments["event_body"] = event_body(
                event_id, created, type, body, request_id, idempotency_key, pending_webhooks, None
            ) or _encode(
                event_of(
                    event_id, created, type, record, request_id, idempotency_key, pending_webhooks
                )
            )
            try:
                (cursor,) = self._execute(connection, (_INSERT_WITH_EVENT, arguments))
            except pg_errors.UniqueViolation as error:
                if error.diag.table_name != "events":
                    raise
                if self._local.connection is connection:
                    self._local.refused = lambda: _event_taken(event_id)
                raise _event_taken(event_id) from None
        row = cursor.fetchone()
        assert row is not None
        inserted, new_prefix, prefix_taken, id_taken = row
        if inserted:
            return
        if prefix is not None and (prefix_taken or (new_prefix is None and not id_taken)):
            msg = f"Invoice prefix {prefix} is already held by another customer."
            raise DuplicateKeyError(msg, key="invoice_prefix", value=prefix)
        if new_prefix:
            # Another writer inserted this id after the statement began: the prefix it
            # reserved for the refused record is given up again.
            connection.execute(
                "DELETE FROM invoice_prefixes WHERE prefix = %s AND customer_id = %s",
                (prefix, customer_id),
            )
        msg = f"Customer id {customer_id} is already taken."
        raise DuplicateKeyError(msg, key="id", value=customer_id)

    def insert(self, record: Record) -> None:
        self._write("write to", lambda connection: self._insert(connection, record), pipelined=True)

    def insert_with_event(
        self,
        record: Record,
        event_id: str,
        created: int,
        type: str,
        request_id: str | None,
        idempotency_key: str | None,
        pending_webhooks: int,
    ) -> None:
        if not self._one_call_writes:
            super().insert_with_event(
                record, event_id, created, type, request_id, idempotency_key, pending_webhooks
            )
            return
        # One statement writes both (as ``insert`` writes the customer alone): no block,
        # no second statement. A taken event id fails it: a call of its own rolls back; in
        # a caller's block the transaction is aborted, for the error to roll back.
        event = (event_id, created, type, request_id, idempotency_key, pending_webhooks)
        self._write(
            "write to", lambda connection: self._insert(connection, record, event), pipelined=True
        )

    def insert_many(self, records: Iterable[Record]) -> None:
        batch = list(records)

        def work(connection: Connection) -> None:
            try:
                # A few statements for the whole batch, in a savepoint: a short row count
                # (or a statement refusing the batch) means a conflict somewhere.
                with connection.transaction():
                    if not self._insert_batch(connection, batch):
                        raise _Conflict
            except (_Conflict, pg_errors.CardinalityViolation):
                # Record by record, to raise the error ``insert`` would for the first
                # refused one; the outer transaction rolls those inserts back with it.
                for record in batch:
                    self._insert(connection, record)

        self._write("write to", work, savepoint=True)

    @staticmethod
    def _insert_batch(connection: Connection, batch: list[Record]) -> bool:
        """Insert every record of ``batch``; False if some id or prefix was refused."""
        prefixes = [
            (record["invoice_prefix"], record["id"])
            for record in batch
            if record.get("invoice_prefix") is not None
        ]
        if prefixes:
            reserved = connection.execute(
                "INSERT INTO invoice_prefixes (prefix, customer_id) "
                "SELECT * FROM unnest(%s::text[], %s::text[]) "
                "ON CONFLICT (prefix) DO UPDATE SET customer_id = excluded.customer_id "
                "WHERE invoice_prefixes.customer_id = excluded.customer_id",
                [list(column) for column in zip(*prefixes, strict=True)],
            ).rowcount
            if reserved < len(prefixes):
                return False
        if batch:
            columns: list[list[Any]] = [[], [], [], [], []]
            postings: dict[str, Postings] = {table: set() for table, _, _ in _POSTING_TABLES}
            for record in batch:
                values = (
                    record["id"],
                    record["created"],
                    record.get("email"),
                    record.get("invoice_prefix"),
                    _encode(record),
                )
                for column, value in zip(columns, values, strict=True):
                    column.append(value)
                for table, rows in _postings(record["id"], record["created"], record).items():
                    postings[table] |= rows
            inserted = connection.execute(
                "INSERT INTO customers (id, created, email, invoice_prefix, body) "
                "SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[]) "
                "ON CONFLICT (id) DO NOTHING",
                columns,
            ).rowcount
            if inserted < len(batch):
                return False
            _rewrite_postings(connection, {}, postings)
        return True

    def insert_tombstone(self, customer_id: str, created: int) -> None:
        def work(connection: Connection) -> None:
            inserted = connection.execute(
                "INSERT INTO customers (id, created, deleted) VALUES (%s, %s, true) "
                "ON CONFLICT (id) DO NOTHING",
                (customer_id, created),
            ).rowcount
            if not inserted:
                msg = f"Customer id {customer_id} is already taken."
                raise DuplicateKeyError(msg, key="id", value=customer_id)

        self._write("write to", work)

    def reserve_invoice_prefix(self, prefix: str, customer_id: str) -> bool:
        return self._write(
            "write to", lambda connection: self._reserve_prefix(connection, prefix, customer_id)
        )

    @contextmanager
    def read_snapshot(self) -> Iterator[StoreSnapshot]:
        if self._in_block():
            # This thread's own transaction: the snapshot sees its uncommitted work.
            connection = self._local.connection
            assert connection is not None
            try:
                self._flush_begin(connection)
            except psycopg.Error as error:
                raise self._fail("read a snapshot of", error) from error
            yield _PostgresSnapshot(connection, self)
            return
        connection = self._take()
        try:
            try:
                connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                connection.execute("SELECT 1 FROM schema_version").fetchone()
            except psycopg.Error as error:
                raise self._fail("read a snapshot of", error) from error
            try:
                yield _PostgresSnapshot(connection, self)
            finally:
                if not connection.closed:
                    try:
                        connection.execute("ROLLBACK")
                    except psycopg.Error:
                        pass
        finally:
            self._give_back(connection)

    def get(self, customer_id: str) -> Record | None:
        if _unstored(customer_id):
            return None
        # Inside a transaction block the read locks the row: the caller is about to write it.
        lock = " FOR UPDATE" if self._in_block() else ""
        query = f"SELECT body FROM customers WHERE id = %s AND NOT deleted{lock}"

        def work(connection: Connection) -> Record | None:
            row = connection.execute(query, (customer_id,)).fetchone()
            return None if row is None else _decode(row[0])

        return self._read("read from", work)

    def is_deleted(self, customer_id: str) -> bool:
        if _unstored(customer_id):
            return False

        def work(connection: Connection) -> bool:
            row = connection.execute(
                "SELECT 1 FROM customers WHERE id = %s AND deleted", (customer_id,)
            ).fetchone()
            return row is not None

        return self._read("read from", work)

    def sort_key(self, customer_id: str) -> SortKey | None:
        if _unstored(customer_id):
            return None

        def work(connection: Connection) -> SortKey | None:
            row = connection.execute(
                "SELECT created FROM customers WHERE id = %s", (customer_id,)
            ).fetchone()
            return None if row is None else (row[0], customer_id)

        return self._read("read from", work)

    @staticmethod
    def _live(connection: Connection, customer_id: str, action: str) -> tuple[int, Record]:
        """The created time and record of a live customer (row locked), which ``action``
        needs."""
        row = connection.execute(
            "SELECT created, body FROM customers WHERE id = %s AND NOT deleted FOR UPDATE",
            (customer_id,),
        ).fetchone()
        if row is None:
            msg = f"No live customer {customer_id} to {action}."
            raise RecordNotFoundError(msg)
        return row[0], _decode(row[1])

    def replace(self, record: Record) -> None:
        customer_id = record["id"]

        def work(connection: Connection) -> None:
            created, old = self._live(connection, customer_id, "replace")
            prefix = record.get("invoice_prefix")
            self._reserve_prefix(connection, prefix, customer_id)
            connection.execute(
                "UPDATE customers SET email = %s, invoice_prefix = %s, body = %s WHERE id = %s",
                (record.get("email"), prefix, _encode({**record, "created": created}), customer_id),
            )
            _rewrite_postings(
                connection,
                _postings(customer_id, created, old),
                _postings(customer_id, created, record),
            )

        self._write("write to", work)

    def delete(self, customer_id: str) -> None:
        def work(connection: Connection) -> None:
            created, old = self._live(connection, customer_id, "delete")
            connection.execute(
                "UPDATE customers SET deleted = true, email = NULL, invoice_prefix = NULL, "
                "body = NULL WHERE id = %s",
                (customer_id,),
            )
            connection.execute("DELETE FROM tax_ids WHERE customer_id = %s", (customer_id,))
            _rewrite_postings(connection, _postings(customer_id, created, old), {})

        self._write("write to", work)

    def _bodies(self, query: str, arguments: Sequence[Any]) -> list[Record]:
        def work(connection: Connection) -> list[Record]:
            return [_decode(row[0]) for row in connection.execute(query, arguments).fetchall()]

        return self._read("read from", work)

    def scan(
        self,
        key_range: KeyRange = KeyRange(),
        *,
        descending: bool = True,
        email: str | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        conditions, arguments = POSTGRES.range_conditions(key_range)
        if email is not None:
            conditions.insert(0, "email = %s")
            arguments.insert(0, email)
        return self._select(conditions, arguments, descending, limit)

    def scan_containing(
        self, text: str, key_range: KeyRange = KeyRange(), *, limit: int
    ) -> list[Record]:
        # The server skips the bodies that cannot hold the text: they are never sent.
        narrowed = POSTGRES.containing(text, key_range)
        if narrowed is None:
            return self.scan(key_range, limit=limit)
        conditions, arguments = narrowed
        return self._select(conditions, arguments, True, limit)

    def _select(
        self, conditions: list[str], arguments: list[Any], descending: bool, limit: int | None
    ) -> list[Record]:
        """Bodies of the live customers meeting ``conditions``, in key order."""
        query, arguments = POSTGRES.page(
            "customers", ["NOT deleted", *conditions], arguments, descending=descending, limit=limit
        )
        return self._bodies(query, arguments)

    def _keys(self, query: str, arguments: Sequence[Any]) -> list[SortKey]:
        def work(connection: Connection) -> list[SortKey]:
            return [(row[0], row[1]) for row in connection.execute(query, arguments).fetchall()]

        return self._read("read from", work)

    def metadata_keys(
        self, key: str, value: str, key_range: KeyRange, *, limit: int
    ) -> list[SortKey]:
        return self._keys(*POSTGRES.metadata_keys(key, value, key_range, limit))

    def word_keys(
        self, field: str, words: Sequence[str], key_range: KeyRange, *, limit: int
    ) -> list[SortKey]:
        distinct = list(dict.fromkeys(words))
        return self._keys(*POSTGRES.word_keys(field, distinct, key_range, limit))

    def idempotency_get(self, key: str) -> dict[str, Any] | None:
        in_block = self._in_block()

        select: Statement = ("SELECT entry FROM idempotency_keys WHERE key = %s", (key,))

        def work(connection: Connection) -> dict[str, Any] | None:
            if in_block:
                # Requests with one key, in any process, take turns until the first commits.
                lock: Statement = (
                    "SELECT pg_advisory_xact_lock(%s)",
                    (_lock_key(f"idempotency:{key}"),),
                )
                cursor = self._execute(connection, lock, select)[1]
            else:
                cursor = connection.execute(*select)
            row = cursor.fetchone()
            return None if row is None else _decode(row[0])

        return self._call("read from", work, write=False, pipelined=True)

    def idempotency_put(self, key: str, entry: dict[str, Any]) -> None:
        self._write(
            "write to",
            lambda connection: connection.execute(
                "INSERT INTO idempotency_keys (key, created, entry) VALUES (%s, %s, %s) "
                "ON CONFLICT (key) DO UPDATE SET created = excluded.created, entry = excluded.entry",
                (key, entry["created"], _encode(entry)),
            ),
        )

    def idempotency_purge(self, before: int, *, limit: int = PURGE_LIMIT) -> int:
        return self._write(
            "write to",
            lambda connection: (
                connection.execute(POSTGRES_PURGES.idempotency, (before, limit)).rowcount
            ),
        )

    def insert_tax_id(self, record: Record) -> None:
        customer_id = record["customer"]

        def work(connection: Connection) -> None:
            live = connection.execute(
                "SELECT 1 FROM customers WHERE id = %s AND NOT deleted FOR SHARE", (customer_id,)
            ).fetchone()
            if live is None:
                msg = f"No live customer {customer_id} to add a tax ID to."
                raise RecordNotFoundError(msg)
            inserted = connection.execute(
                "INSERT INTO tax_ids (customer_id, created, id, body) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (customer_id, record["created"], record["id"], _encode(record)),
            ).rowcount
            if not inserted:
                msg = f"Tax ID {record['id']} is already taken."
                raise DuplicateKeyError(msg, key="id", value=record["id"])

        self._write("write to", work)

    def get_tax_id(self, tax_id: str) -> Record | None:
        if _unstored(tax_id):
            return None

        def work(connection: Connection) -> Record | None:
            row = connection.execute("SELECT body FROM tax_ids WHERE id = %s", (tax_id,)).fetchone()
            return None if row is None else _decode(row[0])

        return self._read("read from", work)

    def delete_tax_id(self, tax_id: str) -> None:
        def work(connection: Connection) -> None:
            if (
                _unstored(tax_id)
                or not connection.execute("DELETE FROM tax_ids WHERE id = %s", (tax_id,)).rowcount
            ):
                msg = f"No tax ID {tax_id} to delete."
                raise RecordNotFoundError(msg)

        self._write("write to", work)

    def tax_ids(
        self,
        customer_id: str,
        key_range: KeyRange = KeyRange(),
        *,
        descending: bool = True,
        limit: int | None = None,
    ) -> list[Record]:
        conditions, arguments = POSTGRES.range_conditions(key_range)
        return self._bodies(
            *POSTGRES.page(
                "tax_ids",
                ["customer_id = %s", *conditions],
                [customer_id, *arguments],
                descending=descending,
                limit=limit,
            )
        )

    def event_insert(self, event: Record) -> None:
        event_id = event["id"]

        def refusal() -> DuplicateKeyError:
            return _event_taken(event_id)

        body = _encode(event)
        arguments = (event_id, event["created"], event["type"], body)
        if self._defer(_Deferred(_EVENT_INSERT, arguments, "events", refusal)):
            return

        def work(connection: Connection) -> None:
            inserted = connection.execute(
                _EVENT_INSERT + " ON CONFLICT (id) DO NOTHING", arguments
            ).rowcount
            if not inserted:
                raise refusal()

        self._write("write to", work)

    def event_get(self, event_id: str) -> Record | None:
        if _unstored(event_id):
            return None

        def work(connection: Connection) -> Record | None:
            row = connection.execute(
                "SELECT body FROM events WHERE id = %s", (event_id,)
            ).fetchone()
            return None if row is None else _decode(row[0])

        return self._read("read from", work)

    def event_get_many(self, event_ids: Collection[str]) -> dict[str, Record]:
        return {
            event_id: _decode(body) for event_id, body in self.event_json_many(event_ids).items()
        }

    def event_json_many(self, event_ids: Collection[str]) -> dict[str, bytes]:
        ids = [event_id for event_id in set(event_ids) if not _unstored(event_id)]
        if not ids:
            return {}

        def work(connection: Connection) -> dict[str, bytes]:
            rows = connection.execute(
                "SELECT id, body FROM events WHERE id = ANY(%s)", (ids,)
            ).fetchall()
            return {row[0]: row[1].encode() for row in rows}  # as written: JSON text

        return self._read("read from", work)

    def event_scan(
        self,
        key_range: KeyRange = KeyRange(),
        *,
        descending: bool = True,
        types: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        query = POSTGRES.event_scan(key_range, descending=descending, types=types, limit=limit)
        return [] if query is None else self._bodies(*query)

    def event_purge(self, before: int, *, limit: int = PURGE_LIMIT) -> int:
        return self._write(
            "write to",
            lambda connection: connection.execute(POSTGRES_EVENT_PURGE, (before, limit)).rowcount,
        )

    def webhook_endpoint_put(self, endpoint: Record) -> None:
        def work(connection: Connection) -> None:
            # An existing endpoint keeps its created time: the upsert reads it back.
            row = connection.execute(
                "INSERT INTO webhook_endpoints (id, created, body) VALUES (%s, %s, '') "
                "ON CONFLICT (id) DO UPDATE SET id = excluded.id RETURNING created",
                (endpoint["id"], endpoint["created"]),
            ).fetchone()
            created = endpoint["created"] if row is None else row[0]
            connection.execute(
                "UPDATE webhook_endpoints SET body = %s WHERE id = %s",
                (_encode({**endpoint, "created": created}), endpoint["id"]),
            )

        self._write("write to", work)

    def webhook_endpoint_get(self, endpoint_id: str) -> Record | None:
        if _unstored(endpoint_id):
            return None

        def work(connection: Connection) -> Record | None:
            row = connection.execute(
                "SELECT body FROM webhook_endpoints WHERE id = %s", (endpoint_id,)
            ).fetchone()
            return None if row is None else _decode(row[0])

        return self._read("read from", work)

    def webhook_endpoint_delete(self, endpoint_id: str) -> None:
        def work(connection: Connection) -> None:
            if (
                _unstored(endpoint_id)
                or not connection.execute(
                    "DELETE FROM webhook_endpoints WHERE id = %s", (endpoint_id,)
                ).rowcount
            ):
                msg = f"No webhook endpoint {endpoint_id} to delete."
                raise RecordNotFoundError(msg)

        self._write("write to", work)

    def webhook_endpoint_scan(
        self, key_range: KeyRange = KeyRange(), *, descending: bool = True, limit: int | None = None
    ) -> list[Record]:
        conditions, arguments = POSTGRES.range_conditions(key_range)
        return self._bodies(
            *POSTGRES.page(
                "webhook_endpoints", conditions, arguments, descending=descending, limit=limit
            )
        )

    # --- webhook deliveries ---------------------------------------------------------------

    def outbox_add(self, deliveries: Sequence[Record]) -> None:
        rows = [_outbox_row(delivery) for delivery in deliveries]

        def refusal() -> DuplicateKeyError:
            msg = "A delivery of one of these events to one of these endpoints exists."
            return DuplicateKeyError(msg, key="id", value=_delivery_ids(deliveries))

        if self._defer(
            *[_Deferred(_OUTBOX_INSERT, row, "webhook_outbox", refusal) for row in rows]
        ):
            return

        def work(connection: Connection) -> None:
            try:
                with connection.cursor() as cursor:
                    cursor.executemany(_OUTBOX_INSERT, rows)
            except pg_errors.UniqueViolation:
                raise refusal() from None

        self._write("write to", work)

    def outbox_next_due(self) -> float | None:
        def work(connection: Connection) -> float | None:
            row = connection.execute(_OUTBOX_NEXT_DUE).fetchone()
            return None if row is None else float(row[0])

        return self._read("read from", work)

    def outbox_arrivals(self, mark: str | None) -> tuple[int, str | None] | None:
        # Event ids are ULIDs, in creation order: the newest delivery's event id is the
        # mark, and what was added since is a range of the primary key (two index probes,
        # a cost of the rows added, not of the outbox).
        def work(connection: Connection) -> tuple[int, str | None]:
            if mark is None:
                row = connection.execute(_OUTBOX_NEWEST).fetchone()
                return 0, None if row is None else row[0]
            row = connection.execute(_OUTBOX_ARRIVALS, (mark, mark)).fetchone()
            return (0, mark) if row is None else (int(row[0]), row[1])

        return self._read("read from", work)

    def outbox_claim(self, now: float, lease_until: float, limit: int) -> list[Record]:
        def work(connection: Connection) -> list[Record]:
            # One statement whatever the batch: a statement a delivery cost the database
            # server's processes (at the API's priority) more than the delivery process.
            rows = connection.execute(_CLAIM, (now, limit, lease_until)).fetchall()
            return [_delivery(row, lease_until) for row in rows]

        return self._write("write to", work)

    def outbox_settle(self, deliveries: Sequence[Record], attempts: Sequence[Record]) -> None:
        kept, removed = _settled(deliveries)
        rows = [_attempt_row(attempt) for attempt in attempts]

        def work(connection: Connection) -> None:
            # A statement for each kind of change, with the batch's rows as arrays.
            if kept:
                connection.execute(_SETTLE_UPDATE, _as_arrays(kept))
            if removed:
                connection.execute(_SETTLE_DELETE, _as_arrays(removed))
            if rows:
                try:
                    connection.execute(_ATTEMPTS_INSERT, _as_arrays(rows))
                except pg_errors.UniqueViolation:
                    msg = "A delivery attempt id is already taken."
                    value = ", ".join(attempt["id"] for attempt in attempts)
                    raise DuplicateKeyError(msg, key="id", value=value) from None

        if kept or removed or rows:
            self._write("write to", work)

    def outbox_pending(self, event_ids: Collection[str]) -> dict[str, int]:
        ids = list(event_ids)
        if not ids:
            return {}

        def work(connection: Connection) -> dict[str, int]:
            rows = connection.execute(
                "SELECT event_id, count(*) FROM webhook_outbox WHERE event_id = ANY(%s) "
                "GROUP BY event_id",
                (ids,),
            ).fetchall()
            return {event_id: int(count) for event_id, count in rows}

        return self._read("read from", work)

    def outbox_event_ids(self) -> set[str]:
        def work(connection: Connection) -> set[str]:
            return {row[0] for row in connection.execute(_OUTBOX_EVENTS).fetchall()}

        return self._read("read from", work)

    def outbox_cancel(self, endpoint_id: str) -> int:
        return self._write(
            "write to",
            lambda connection: connection.execute(_OUTBOX_CANCEL, (endpoint_id,)).rowcount,
        )

    def outbox_purge(self, before: float, *, limit: int = PURGE_LIMIT) -> int:
        def work(connection: Connection) -> int:
            removed = 0
            for statement in POSTGRES_PURGES.outbox:
                removed += connection.execute(statement, (before, limit - removed)).rowcount
            return removed

        return self._write("write to", work)

    def delivery_attempt_get(self, attempt_id: str) -> Record | None:
        if _unstored(attempt_id):
            return None

        def work(connection: Connection) -> Record | None:
            row = connection.execute(_ATTEMPT_GET, (attempt_id,)).fetchone()
            return None if row is None else _decode(row[0])

        return self._read("read from", work)

    def delivery_attempt_scan(
        self,
        key_range: KeyRange = KeyRange(),
        *,
        endpoint: str | None = None,
        descending: bool = True,
        limit: int | None = None,
    ) -> list[Record]:
        query, arguments = attempt_page(
            POSTGRES, key_range, endpoint, descending=descending, limit=limit
        )
        return self._bodies(query, arguments)

    def count(self) -> int:
        def work(connection: Connection) -> int:
            row = connection.execute("SELECT count(*) FROM customers WHERE NOT deleted").fetchone()
            return 0 if row is None else int(row[0])

        return self._read("read from", work)

    def snapshot(self) -> dict[str, Any]:
        def work(connection: Connection) -> dict[str, Any]:
            def rows(query: str) -> list[tuple[Any, ...]]:
                return connection.execute(query).fetchall()

            return {
                "customers": [
                    _decode(body)
                    for (body,) in rows(
                        "SELECT body FROM customers WHERE NOT deleted ORDER BY created, id"
                    )
                ],
                "tombstones": dict(rows("SELECT id, created FROM customers WHERE deleted")),
                "invoice_prefixes": dict(rows("SELECT prefix, customer_id FROM invoice_prefixes")),
                "idempotency_keys": {
                    key: _decode(entry)
                    for key, entry in rows("SELECT key, entry FROM idempotency_keys")
                },
                "tax_ids": [
                    _decode(body)
                    for (body,) in rows(
                        "SELECT body FROM tax_ids ORDER BY customer_id, created, id"
                    )
                ],
                "events": [
                    _decode(body)
                    for (body,) in rows("SELECT body FROM events ORDER BY created, id")
                ],
                "webhook_endpoints": [
                    _decode(body)
                    for (body,) in rows("SELECT body FROM webhook_endpoints ORDER BY created, id")
                ],
            }

        # One transaction, so every part is of the same moment.
        return self._write("read from", work)

    def checkpoint(self) -> Checkpoint:
        # Every table of the schema, whoever added it, row by row; the tables are locked
        # against writers while they are read, so the parts are of one moment.
        def work(connection: Connection) -> dict[str, tuple[list[str], list[Any]]]:
            tables = self._content_tables(connection)
            self._lock_tables(connection, tables, "SHARE")
            state: dict[str, tuple[list[str], list[Any]]] = {}
            for table in tables:
                cursor = connection.execute(
                    sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))
                )
                columns = [column.name for column in cursor.description or ()]
                state[table] = (columns, cursor.fetchall())
            return state

        return Checkpoint(type(self), self._write("checkpoint", work))

    @staticmethod
    def _lock_tables(connection: Connection, tables: list[str], mode: str) -> None:
        names = sql.SQL(", ").join(sql.Identifier(table) for table in tables)
        connection.execute(_LOCK_TABLES[mode].format(names))

    def restore(self, checkpoint: Checkpoint) -> None:
        state: dict[str, tuple[list[str], list[Any]]] = self._checkpoint_state(checkpoint)

        def work(connection: Connection) -> None:
            tables = self._content_tables(connection)
            if sorted(tables) != sorted(state):
                msg = (
                    "This checkpoint was taken from a customer store with other tables than "
                    f"{self.where}."
                )
                raise ValueError(msg)
            self._lock_tables(connection, tables, "EXCLUSIVE")
            for table in tables:
                connection.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
            for table, (columns, rows) in state.items():
                if not rows:
                    continue
                query = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
                with connection.cursor().copy(query) as copy:
                    for row in rows:
                        copy.write_row(row)

        self._write("restore", work)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pool.close()

    def check_consistency(self) -> None:
        def work(connection: Connection) -> None:
            expected: dict[str, Postings] = {table: set() for table, _, _ in _POSTING_TABLES}
            for customer_id, created, deleted, email, prefix, body in connection.execute(
                "SELECT id, created, deleted, email, invoice_prefix, body FROM customers"
            ):
                if deleted:
                    require(
                        (email, prefix, body) == (None, None, None),
                        f"the tombstone of {customer_id} keeps columns of a live customer",
                    )
                    continue
                record = _decode(body)
                require(
                    (record["id"], record["created"], record.get("email"))
                    == (customer_id, created, email)
                    and record.get("invoice_prefix") == prefix,
                    f"the columns of {customer_id} do not match its body",
                )
                check_customer(connection, POSTGRES, record, expected)
            check_postings_and_tax_ids(connection, expected)
            orphans = connection.execute(
                "SELECT count(*) FROM tax_ids AS t WHERE NOT EXISTS (SELECT 1 FROM customers "
                "AS c WHERE c.id = t.customer_id AND NOT c.deleted)"
            ).fetchone()
            require(orphans == (0,), f"{orphans} tax IDs belong to no live customer")

        self._read("check", work)


_LOCK_TABLES = {
    "SHARE": sql.SQL("LOCK TABLE {} IN SHARE MODE"),
    "EXCLUSIVE": sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE"),
}


class _PostgresSnapshot(StoreSnapshot):
    """Reads inside one REPEATABLE READ transaction, streamed through server-side cursors."""

    def __init__(self, connection: Connection, store: PostgresStore) -> None:
        self._connection = connection
        self._store = store

    def _rows(self, query: str) -> Iterator[tuple[Any, ...]]:
        try:
            with self._connection.cursor(name=f"snapshot_{id(object())}") as cursor:
                cursor.itersize = 500
                cursor.execute(query)
                yield from cursor
        except psycopg.Error as error:
            raise self._store._fail("read a snapshot of", error) from error

    def count(self) -> int:
        return int(next(self._rows("SELECT count(*) FROM customers WHERE NOT deleted"))[0])

    def records(self, *, descending: bool = True) -> Iterator[Record]:
        direction = "DESC" if descending else "ASC"
        for (body,) in self._rows(
            f"SELECT body FROM customers WHERE NOT deleted "
            f"ORDER BY created {direction}, id {direction}"
        ):
            yield _decode(body)

    def records_json(self, *, descending: bool = True) -> Iterator[bytes]:
        # Bodies are pydantic-core's compact JSON of the record: hand them out as they are.
        direction = "DESC" if descending else "ASC"
        for (body,) in self._rows(
            f"SELECT body FROM customers WHERE NOT deleted "
            f"ORDER BY created {direction}, id {direction}"
        ):
            yield body.encode()

    def tombstones(self) -> Iterator[tuple[str, int]]:
        yield from self._rows("SELECT id, created FROM customers WHERE deleted ORDER BY id")

    def tax_ids(self) -> Iterator[Record]:
        for (body,) in self._rows("SELECT body FROM tax_ids ORDER BY customer_id, created, id"):
            yield _decode(body)

    def former_invoice_prefixes(self) -> Iterator[tuple[str, str]]:
        yield from self._rows(
            """SELECT p.customer_id, p.prefix FROM invoice_prefixes AS p
            LEFT JOIN customers AS c ON c.id = p.customer_id
            WHERE c.invoice_prefix IS DISTINCT FROM p.prefix
            ORDER BY p.customer_id, p.prefix"""
        )
