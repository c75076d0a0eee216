"""SQLiteStore: the durable store, one SQLite file, on the standard library's ``sqlite3``.

- Durability: WAL journal; an acknowledged write is a committed transaction, and with the
  default ``synchronous="FULL"`` the commit is on disk before the call returns
  (``"NORMAL"`` keeps every commit across a process crash but may lose the last ones on
  power loss, for more speed).
- Processes: every write transaction starts with ``BEGIN IMMEDIATE``, so read-modify-write
  cycles of several processes serialize instead of losing updates; waiting for another
  writer lasts up to the busy timeout (30 s by default), then is a StoreError (503) saying
  the store stayed locked, not SQLite's bare "database is locked".
- Threads: writes share one connection behind a re-entrant lock; reads outside a write
  transaction take a connection of their own from a pool, so they never wait for a write
  (WAL lets readers run beside a writer, even one of another process holding the write
  lock). Each read starts a fresh snapshot, so it sees every write committed before it;
  reads inside a write transaction use the write connection and see its uncommitted work.
  An in-memory database (``":memory:"``) cannot be shared by connections: there, reads
  take the lock and the write connection too.
- Files: a ``schema_version`` table and forward migrations. A file that is not SQLite, not
  ours, or of a newer schema is refused with a StoreError naming the path, untouched.
- Records are stored as compact JSON text, so any server database can share the schema.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter
from types import TracebackType
from typing import Any, ClassVar, Literal, TypeVar

import pydantic_core

from ..errors import DuplicateKeyError, RecordNotFoundError, StoreClosedError, StoreError
from ..search.ast import STRING_FIELDS
from ..search.evaluate import field_words, index_terms
from ..settings import check_seconds
from .base import (
    PURGE_LIMIT,
    Checkpoint,
    KeyRange,
    NestedTransaction,
    PreviousAttributes,
    Record,
    SortKey,
    Store,
    StoreSnapshot,
    event_of,
    holds_invoice_prefix,
    keeps_writes,
    require,
)
from .entries import add_email_entry, add_search_entries, searched_fields
from .sql import (
    _ATTEMPT_GET,
    _OUTBOX_CANCEL,
    _OUTBOX_DELETE,
    _OUTBOX_DUE,
    _OUTBOX_EVENTS,
    _OUTBOX_INSERT,
    _OUTBOX_LEASE,
    _OUTBOX_NEXT_DUE,
    _OUTBOX_UPDATE,
    _POSTING_TABLES,
    SQLITE,
    SQLITE_PURGES,
    Postings,
    _attempt_row,
    _delivery,
    _delivery_ids,
    _metadata_postings,
    _outbox_row,
    _postings,
    _settled,
    attempt_page,
    check_customer,
    check_postings_and_tax_ids,
    event_body,
)
from .sqlite_events import (
    EventTables,
    add_tax_id_event_types,
    key_events_by_id,
    split_events_by_type,
)

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

_T = TypeVar("_T")


def _add_search_indexes(connection: sqlite3.Connection) -> None:
    """Version 2: fill the search columns of customers written by version 1."""
    rows = connection.execute("SELECT id, created, email, body FROM customers").fetchall()
    for customer_id, created, email, body in rows:
        connection.execute(
            "UPDATE customers SET email_words = ? WHERE id = ?",
            (None if email is None else " ".join(_V2_WORD.findall(email.lower())), customer_id),
        )
        metadata = _metadata_postings(customer_id, created, _decode(body).get("metadata"))
        _write_postings(connection, "customer_metadata", set(), metadata)


_V2_WORD = re.compile(r"[^\W_]+")
"""A word of schema version 2's email word key (a column unused since version 7)."""


def _post_terms(connection: sqlite3.Connection, terms: Callable[[str, str], set[str]]) -> None:
    """Insert into customer_words the ``terms(field, value)`` of every stored customer."""

    def postings() -> Iterator[tuple[str, str, int, str]]:
        for customer_id, created, body in connection.execute(
            "SELECT id, created, body FROM customers"
        ):
            record = _decode(body)
            for field in STRING_FIELDS:
                text = record.get(field)
                if text:
                    for term in terms(field, text):
                        yield field, term, created, customer_id

    connection.executemany(
        "INSERT INTO customer_words (field, word, created, customer_id) VALUES (?, ?, ?, ?)",
        postings(),
    )


def _add_word_postings(connection: sqlite3.Connection) -> None:
    """Version 7: post the words of every customer's email, name and phone."""
    _post_terms(connection, lambda field, text: set(field_words(field, text)))


def _add_pair_postings(connection: sqlite3.Connection) -> None:
    """Version 9: post the pairs of adjacent words (the index terms that are not words)."""
    _post_terms(
        connection, lambda field, text: index_terms(field, text) - set(field_words(field, text))
    )


_POSTING_SQL = {
    table: (
        f"DELETE FROM {table} WHERE {first} = ? AND {second} = ? AND created = ? AND customer_id = ?",
        f"INSERT INTO {table} ({first}, {second}, created, customer_id) VALUES (?, ?, ?, ?)",
    )
    for table, first, second in _POSTING_TABLES
}


_ROWS_PER_STATEMENT = 50


def _insert_rows(
    connection: sqlite3.Connection,
    sql: str,
    rows: Sequence[tuple[Any, ...]],
) -> int:
    """Run ``sql``, an insert whose ``{values}`` stands for ``VALUES (?, ...), ...``,
    for every row, 50 rows to a statement (binding a multi-row VALUES costs a third less
    per row than a statement a row); return how many rows it changed."""
    if not rows:
        return 0
    marks = "(" + ", ".join("?" * len(rows[0])) + ")"
    whole = len(rows) - len(rows) % _ROWS_PER_STATEMENT
    values = list(chain.from_iterable(rows[:whole]))
    width = len(rows[0]) * _ROWS_PER_STATEMENT
    changed = connection.executemany(
        sql.format(values="VALUES " + ", ".join([marks] * _ROWS_PER_STATEMENT)),
        (values[start : start + width] for start in range(0, len(values), width)),
    ).rowcount
    if whole < len(rows):
        changed += connection.executemany(
            sql.format(values="VALUES " + marks), rows[whole:]
        ).rowcount
    return changed


_INSERT_POSTINGS_SQL = {
    table: f"INSERT INTO {table} ({first}, {second}, created, customer_id) {{values}}"
    for table, first, second in _POSTING_TABLES
}
_POST_MISSING_SQL = {
    table: sql.replace("INSERT", "INSERT OR IGNORE", 1)
    for table, sql in _INSERT_POSTINGS_SQL.items()
}
"""The postings of unsearched customers: a replace since insert_many may have written some."""

_ANY_UNSEARCHED = "SELECT 1 FROM customers_unsearched LIMIT 1"

_UNSEARCHED_BODIES = (
    "SELECT c.body FROM json_each(?) AS j CROSS JOIN customers AS c ON c.id = j.value"
)
"""The stored JSON of the live customers among a JSON array of ids, in its order."""

_UNSEARCHED_PER_TRANSACTION = 25
"""How many customers_unsearched rows (insert_many calls: 2,000 customers each in an
import) one write transaction of ``_post_unsearched`` takes: about 50,000 customers, their
postings held in memory (tens of MB) and the write lock held for about a second."""


def _write_postings(
    connection: sqlite3.Connection, table: str, old: Postings, new: Postings
) -> None:
    """Change a posting table's rows of one customer from ``old`` to ``new``, touching only
    the differences."""
    delete, insert = _POSTING_SQL[table]
    removed, added = old - new, new - old
    if removed:
        connection.executemany(delete, removed)
    if added:
        connection.executemany(insert, added)


def _rewrite_postings(
    connection: sqlite3.Connection, old: dict[str, Postings], new: dict[str, Postings]
) -> None:
    """Change every posting table's rows of one customer from ``old`` to ``new``."""
    for table in _POSTING_SQL:
        _write_postings(connection, table, old.get(table, set()), new.get(table, set()))


Migration = tuple[str | Callable[[sqlite3.Connection], None], ...]

_OUTBOX_MIGRATION = (
    """CREATE TABLE webhook_outbox (
        event_id TEXT NOT NULL,
        endpoint_id TEXT NOT NULL,
        created REAL NOT NULL,
        next_attempt REAL NOT NULL,
        attempts INTEGER NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (event_id, endpoint_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt) WHERE status = 'pending'",
    """CREATE TABLE webhook_attempts (
        id TEXT PRIMARY KEY,
        created INTEGER NOT NULL,
        endpoint_id TEXT NOT NULL,
        body TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX webhook_attempts_by_created ON webhook_attempts (created, id)",
    "CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, created, id)",
)
# Each entry migrates the schema from version N to N + 1; never edit a released one.
MIGRATIONS: tuple[Migration, ...] = (
    (
        "CREATE TABLE schema_version (version INTEGER NOT NULL)",
        "INSERT INTO schema_version (version) VALUES (0)",
        """CREATE TABLE customers (
            id TEXT PRIMARY KEY,
            created INTEGER NOT NULL,
            email TEXT,
            body TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX customers_by_created ON customers (created, id)",
        "CREATE INDEX customers_by_email ON customers (email, created, id) WHERE email IS NOT NULL",
        "CREATE TABLE tombstones (id TEXT PRIMARY KEY, created INTEGER NOT NULL) WITHOUT ROWID",
        """CREATE TABLE invoice_prefixes (
            prefix TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL
        ) WITHOUT ROWID""",
    ),
    (
        "ALTER TABLE customers ADD COLUMN email_words TEXT",
        """CREATE INDEX customers_by_email_words ON customers (email_words, created, id)
            WHERE email_words IS NOT NULL""",
        """CREATE TABLE customer_metadata (
            customer_id TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            created INTEGER NOT NULL,
            PRIMARY KEY (customer_id, key)
        ) WITHOUT ROWID""",
        "CREATE INDEX customer_metadata_by_value ON customer_metadata (key, value, created, customer_id)",
        _add_search_indexes,
    ),
    (
        """CREATE TABLE idempotency_keys (
            key TEXT PRIMARY KEY,
            created INTEGER NOT NULL,
            entry TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX idempotency_keys_by_created ON idempotency_keys (created)",
    ),
    (
        # The email-words index serves exact email lookups too: one index page less per write.
        "DROP INDEX customers_by_email",
    ),
    (
        # Metadata postings as one b-tree keyed the way search reads them: a write touches
        # one page per metadata entry instead of two (table and index).
        """CREATE TABLE customer_metadata_v5 (
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            created INTEGER NOT NULL,
            customer_id TEXT NOT NULL,
            PRIMARY KEY (key, value, created, customer_id)
        ) WITHOUT ROWID""",
        # In key order, read straight off the old value index: the copy appends.
        """INSERT INTO customer_metadata_v5 (key, value, created, customer_id)
            SELECT key, value, created, customer_id FROM customer_metadata
            ORDER BY key, value, created, customer_id""",
        "DROP TABLE customer_metadata",
        "ALTER TABLE customer_metadata_v5 RENAME TO customer_metadata",
    ),
    (
        # A customer's tax IDs, keyed the way its list reads them; the id index serves
        # retrieve and delete by id.
        """CREATE TABLE tax_ids (
            customer_id TEXT NOT NULL,
            created INTEGER NOT NULL,
            id TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (customer_id, created, id)
        ) WITHOUT ROWID""",
        "CREATE UNIQUE INDEX tax_ids_by_id ON tax_ids (id)",
    ),
    (
        # Search's ':' matches whole words of email (the lowercase address), name and phone
        # anywhere in the value: one posting per distinct word, read the way metadata's are.
        # The email-words column and its index are retired (SQLite before 3.35 cannot drop
        # a column, so it stays, NULL); the list's exact email filter reads the email word.
        """CREATE TABLE customer_words (
            field TEXT NOT NULL,
            word TEXT NOT NULL,
            created INTEGER NOT NULL,
            customer_id TEXT NOT NULL,
            PRIMARY KEY (field, word, created, customer_id)
        ) WITHOUT ROWID""",
        _add_word_postings,
        "DROP INDEX customers_by_email_words",
        "UPDATE customers SET email_words = NULL WHERE email_words IS NOT NULL",
    ),
    (
        # Events (customer_core.events), written in the transaction of the change they record.
        """CREATE TABLE events (
            id TEXT PRIMARY KEY,
            created INTEGER NOT NULL,
            type TEXT NOT NULL,
            body TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX events_by_created ON events (created, id)",
        "CREATE INDEX events_by_type ON events (type, created, id)",
    ),
    (
        # Pairs of adjacent words beside the words (the column keeps its name): a phrase
        # walks the postings of its rarest pair, so "first last" among a million customers
        # reads its few matches, not the thousands holding either word.
        _add_pair_postings,
    ),
    (
        # Webhook endpoints (customer_core.events.webhooks), with their signing secrets.
        """CREATE TABLE webhook_endpoints (
            id TEXT PRIMARY KEY,
            created INTEGER NOT NULL,
            body TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX webhook_endpoints_by_created ON webhook_endpoints (created, id)",
    ),
    (
        # Events in a rowid table with two indexes instead of a WITHOUT ROWID table with
        # two: an event's body (the whole customer, about 1 KiB) overflowed the key b-tree's
        # room for a row, so each event also took a page of its own. Walks in (created, id)
        # order merge one walk of the type index per type, so recording an event writes
        # three b-trees (about 4 pages a commit in WAL mode, down from 7).
        """CREATE TABLE events_v11 (
            id TEXT NOT NULL UNIQUE,
            created INTEGER NOT NULL,
            type TEXT NOT NULL,
            body TEXT NOT NULL
        )""",
        """INSERT INTO events_v11 (id, created, type, body)
            SELECT id, created, type, body FROM events ORDER BY created, id""",
        "DROP TABLE events",
        "ALTER TABLE events_v11 RENAME TO events",
        "CREATE INDEX events_by_type ON events (type, created, id)",
    ),
    (
        # Webhook deliveries (customer_core.events.outbox): one row per event and endpoint,
        # written in the event's transaction, removed once delivered; and their attempts.
        *_OUTBOX_MIGRATION,
    ),
    (
        # Events in a table per type keyed in (created, id) order, found by id through
        # event_ids: two b-trees an event instead of three (customer_core.store.sqlite_events).
        split_events_by_type,
    ),
    (
        # The tables of the tax ID events (customer.tax_id.created, .deleted, .updated).
        add_tax_id_event_types,
    ),
    (
        # Events keyed from their ids where they can be, found by id without event_ids,
        # which keeps the others only: one b-tree an event (customer_core.store.sqlite_events).
        key_events_by_id,
    ),
    (
        # The customers whose search postings (the words of name and phone, metadata
        # values) an insert_many left to the first search that reads them: one row per
        # insert_many, its customers' ids as a JSON array (see _post_unsearched).
        """CREATE TABLE customers_unsearched (
            id INTEGER PRIMARY KEY,
            customer_ids TEXT NOT NULL
        )""",
    ),
    (
        # Given-up deliveries in the order outbox_purge takes them: a purge reads its bite
        # instead of scanning the outbox (which grows with the pending deliveries).
        """CREATE INDEX webhook_outbox_given_up ON webhook_outbox (created, event_id, endpoint_id)
            WHERE status = 'failed'""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
# The files SQLite keeps beside a data file ``PATH`` while it is open or after a crash.
SIDE_FILE_SUFFIXES = ("-journal", "-wal", "-shm")

Synchronous = Literal["FULL", "NORMAL"]

_WAIT_SLICE_MS = 50
"""The write connection's busy timeout: a begin waits for another process's write lock a
slice at a time, up to ``busy_timeout``, so that it can give up when asked
(``waits_abandoned``); SQLite's own wait cannot be interrupted."""


def _run(migration: Migration, connection: sqlite3.Connection) -> None:
    """Apply one migration's steps: SQL statements, or functions of the connection."""
    for step in migration:
        if callable(step):
            step(connection)
        else:
            connection.execute(step)


@functools.cache
def _tables_of(version: int) -> frozenset[str]:
    """The tables a store file of schema ``version`` has: its migrations run on an empty
    database in memory (once per version and process)."""
    connection = sqlite3.connect(":memory:")
    try:
        for migration in MIGRATIONS[:version]:
            _run(migration, connection)
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return frozenset(row[0] for row in rows)
    finally:
        connection.close()


PRIVATE_FILE_MODE = 0o600
"""A new data file's permissions: its owner's alone, whatever the umask. It holds the
customers and the webhook endpoints' signing secrets; SQLite gives its ``-wal`` and
``-shm`` files the same mode. A file that exists keeps its own."""


def _create_private(path: str) -> None:
    """Create ``path`` empty with ``PRIVATE_FILE_MODE`` unless something is there already.
    Where it cannot be made (no such directory, no permission), SQLite's own attempt that
    follows fails and says so, in the words its callers already show."""
    try:
        # Where a link points (SQLite follows it); O_EXCL alone would stop at a dangling one.
        target = os.path.realpath(path)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except OSError:
        return
    os.close(descriptor)


def _is_busy(error: sqlite3.Error) -> bool:
    """Whether ``error`` is SQLite's "database is locked" (another connection writes)."""
    code = getattr(error, "sqlite_errorcode", None)  # Python 3.11+
    return code == sqlite3.SQLITE_BUSY if code is not None else "locked" in str(error)


def _encode(value: dict[str, Any]) -> str:
    """Compact UTF-8 JSON text; pydantic-core writes it three times faster than ``json``."""
    return pydantic_core.to_json(value).decode()


_decode = pydantic_core.from_json
_to_json = pydantic_core.to_json

_OBJECT_SLOT = '"data":{"object":null'


class _Access:
    """One call's hold on the store: a pooled read connection for a read (the write
    connection and its lock inside this thread's write transaction), a transaction for a
    write; an sqlite3 error leaving the block becomes a StoreError naming the file. A class
    rather than generator context managers: it runs on every call, and costs a third as
    much."""

    __slots__ = ("_action", "_reader", "_store", "_transaction")

    def __init__(
        self, store: SQLiteStore, action: str, transaction: NestedTransaction | None
    ) -> None:
        self._store = store
        self._action = action
        self._transaction = transaction
        self._reader: sqlite3.Connection | None = None

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        if self._transaction is not None:
            self._transaction.__enter__()
        elif store._pooled_reads and store._writer != threading.get_ident():
            try:
                self._reader = store._take_reader()
            except sqlite3.Error as error:
                raise store._fail(self._action, error) from error
            return self._reader
        else:
            store._lock.acquire()
        try:
            return store._open_connection()
        except BaseException as error:
            self._release(type(error), error, error.__traceback__)
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(exc, (sqlite3.Error, ValueError)):
            # Inside the block only SQL runs and stored JSON is read: a ValueError is a
            # record that is not valid JSON (a file changed by something other than us).
            failure = self._store._fail(self._action, exc)
            self._release(type(failure), failure, traceback)
            raise failure from exc
        self._release(exc_type, exc, traceback)

    def _release(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            self._store._give_back(reader)
        elif self._transaction is None:
            self._store._lock.release()
        else:
            self._transaction.__exit__(exc_type, exc, traceback)


class _WriteTransaction:
    """SQLiteStore's transaction hooks (``TransactionHooks``): one ``BEGIN IMMEDIATE`` ...
    ``COMMIT`` per outermost block, so the write lock is taken up front and a
    read-modify-write loses no update."""

    __slots__ = ("_store",)

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    def begin(self) -> None:
        self._store._begin()

    def commit(self) -> None:
        self._store._commit()

    def abort(self) -> None:
        self._store._abort()


class SQLiteStore(Store):
    """Customer records in one SQLite file; durable, shared safely by threads and processes.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "customers.db")
    >>> with SQLiteStore(path) as store:
    ...     from customer_core import CustomerService
    ...     customer_id = CustomerService(store).create(email="jenny@example.com").id
    >>> with SQLiteStore(path) as store:
    ...     store.get(customer_id)["email"]
    'jenny@example.com'
    """

    _one_call_writes: ClassVar[bool] = True
    """Whether ``insert_with_event`` writes customer and event in one hold
    (``keeps_writes``); else the port's default, built on the overrides."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._one_call_writes = keeps_writes(cls, SQLiteStore)

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 30.0,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            msg = f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}"
            raise ValueError(msg)
        self.path = os.fspath(path)
        self.synchronous = synchronous
        self._busy_timeout = check_seconds("busy_timeout", busy_timeout, zero=True)
        # Open waits_abandoned() blocks: while there are any, a begin does not wait.
        self._abandoning = 0
        self._abandoning_lock = threading.Lock()
        self._transaction = NestedTransaction(_WriteTransaction(self))
        self._lock = self._transaction.lock
        self._closed = False
        # The thread inside a write transaction (its reads use the write connection).
        self._writer: int | None = None
        # Idle read connections; a read takes one (or opens one) and gives it back.
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._pooled_reads = self.path not in (":memory:", "")
        # The record last inserted or replaced and its JSON body: the event that follows the
        # write holds that very dict, and its body reuses the text (see _event_body).
        self._written: tuple[Record, str] | None = None
        self._events = EventTables()
        self._connection: sqlite3.Connection | None = None
        self._connection = self._connect()

    # --- opening, migrations and error translation --------------------------------------

    def _fail(self, action: str, error: BaseException) -> StoreError:
        """The one place where sqlite3 errors become customer_core errors, naming the file."""
        if isinstance(error, UnicodeError):
            reason = f"a value is not valid Unicode text ({error})"
            return StoreError(f"Could not {action} the customer store {self.path}: {reason}")
        if isinstance(error, ValueError):
            reason = f"a stored record is not valid JSON ({error})"
            return StoreError(f"Could not {action} the customer store {self.path}: {reason}")
        return StoreError(f"Could not {action} the customer store {self.path}: {error}")

    def _raw_connection(self) -> sqlite3.Connection:
        """A new connection in autocommit mode, usable from any thread (one at a time)."""
        connection = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        connection.create_function("customer_core_may_contain", 2, _may_contain, deterministic=True)
        return connection

    def _connect(self) -> sqlite3.Connection:
        if os.path.isdir(self.path):
            msg = f"Could not open the customer store {self.path}: it is a directory"
            raise StoreError(msg)
        if os.path.exists(self.path) and not os.path.isfile(self.path):
            msg = (
                f"Could not open the customer store {self.path}: it is not a regular file "
                "(a device, a pipe or a socket)"
            )
            raise StoreError(msg)
        try:
            if self.path not in (":memory:", ""):
                _create_private(self.path)
            connection = self._raw_connection()
        except sqlite3.Error as error:
            raise self._fail("open", error) from error
        try:
            version = self._read_version(connection)
            if self.path != ":memory:":
                connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA synchronous={self.synchronous}")
            if version < SCHEMA_VERSION:
                self._migrate(connection)
            connection.execute(f"PRAGMA busy_timeout = {_WAIT_SLICE_MS}")
        except StoreError:
            connection.close()
            raise
        except sqlite3.Error as error:
            connection.close()
            raise self._fail("open", error) from error
        return connection

    def _read_version(self, connection: sqlite3.Connection) -> int:
        """Read the schema version without writing anything (a refused file stays untouched)."""
        try:
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        except sqlite3.DatabaseError as error:
            msg = f"Could not open the customer store {self.path}: it is not a SQLite database ({error})"
            raise StoreError(msg) from error
        if not tables:
            return 0
        if "schema_version" not in tables:
            msg = (
                f"Could not open the customer store {self.path}: it is a SQLite database "
                "but not a customer_core store (no schema_version table)"
            )
            raise StoreError(msg)
        (version,) = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
        if version is None:
            msg = (
                f"Could not open the customer store {self.path}: its schema_version table is empty"
            )
            raise StoreError(msg)
        if type(version) is not int or version < 1:
            msg = (
                f"Could not open the customer store {self.path}: its schema_version table "
                f"holds {version!r}, not a schema version"
            )
            raise StoreError(msg)
        if version > SCHEMA_VERSION:
            msg = (
                f"Could not open the customer store {self.path}: it has schema version "
                f"{version}, newer than this customer_core understands ({SCHEMA_VERSION}); "
                "upgrade customer_core to open it"
            )
            raise StoreError(msg)
        missing = sorted(_tables_of(version) - tables)
        if missing:
            # Another program's schema_version table (migration tools keep one).
            msg = (
                f"Could not open the customer store {self.path}: it is a SQLite database "
                f"but not a customer_core store (schema version {version} has no "
                f"{', '.join(missing)} table{'s' if len(missing) > 1 else ''})"
            )
            raise StoreError(msg)
        return int(version)

    def _migrate(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            version = 0
            if "schema_version" in tables:
                version = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()[
                    0
                ]
            for number in range(version, SCHEMA_VERSION):
                _run(MIGRATIONS[number], connection)
                connection.execute("UPDATE schema_version SET version = ?", (number + 1,))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def _open_connection(self) -> sqlite3.Connection:
        if self._closed or self._connection is None:
            msg = f"The customer store {self.path} is closed."
            raise StoreClosedError(msg)
        return self._connection

    def _take_reader(self) -> sqlite3.Connection:
        """An idle read connection, or a new one (the pool grows to the readers at once)."""
        with self._readers_lock:
            if self._closed:
                msg = f"The customer store {self.path} is closed."
                raise StoreClosedError(msg)
            if self._readers:
                return self._readers.pop()
        connection = self._raw_connection()
        connection.execute("PRAGMA query_only=ON")
        return connection

    def _give_back(self, reader: sqlite3.Connection) -> None:
        with self._readers_lock:
            if not self._closed:
                self._readers.append(reader)
                return
        reader.close()

    def _rollback(self) -> None:
        connection = self._connection
        if connection is not None and connection.in_transaction:
            try:
                connection.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite already rolled back (it does so on some I/O errors)

    def _reading(self) -> _Access:
        return _Access(self, "read from", None)

    def _writing(self) -> _Access:
        return _Access(self, "write to", self._transaction)

    # --- the Store port ------------------------------------------------------------------

    def transaction(self) -> NestedTransaction:
        return self._transaction

    def _begin(self) -> None:
        connection = self._open_connection()
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.Error as error:
                if not _is_busy(error):
                    raise self._fail("begin a transaction on", error) from error
                if time.monotonic() >= deadline:
                    msg = (
                        f"The customer store {self.path} stayed locked by another writer for "
                        f"{self._busy_timeout:g} s (busy_timeout); nothing was written, retry "
                        "the request."
                    )
                    raise StoreError(msg, http_status=503) from error
                if self._abandoning:
                    msg = (
                        f"Gave up waiting for the write lock of the customer store {self.path} "
                        "(the server is stopping); nothing was written, retry the request."
                    )
                    raise StoreError(msg, http_status=503) from error
        self._writer = threading.get_ident()

    @contextmanager
    def waits_abandoned(self) -> Iterator[None]:
        with self._abandoning_lock:
            self._abandoning += 1
        try:
            yield
        finally:
            with self._abandoning_lock:
                self._abandoning -= 1

    def _commit(self) -> None:
        self._writer = None
        connection = self._open_connection()
        try:
            connection.execute("COMMIT")
        except BaseException as error:
            self._rollback()
            if isinstance(error, sqlite3.Error):
                raise self._fail("commit to", error) from error
            raise

    def _abort(self) -> None:
        self._writer = None
        self._rollback()

    def _reserve_prefix(
        self, connection: sqlite3.Connection, prefix: str | None, customer_id: str
    ) -> bool:
        """Reserve ``prefix`` for the customer; return whether a new row was written."""
        if prefix is None:
            return False
        cursor = connection.execute(
            "INSERT OR IGNORE INTO invoice_prefixes (prefix, customer_id) VALUES (?, ?)",
            (prefix, customer_id),
        )
        if cursor.rowcount:
            return True
        (holder,) = connection.execute(
            "SELECT customer_id FROM invoice_prefixes WHERE prefix = ?", (prefix,)
        ).fetchone()
        if holder != customer_id:
            msg = f"Invoice prefix {prefix} is already held by another customer."
            raise DuplicateKeyError(msg, key="invoice_prefix", value=prefix)
        return False

    def insert(self, record: Record) -> None:
        with self._writing() as connection:
            self._insert_customer(connection, record)

    def _insert_customer(self, connection: sqlite3.Connection, record: Record) -> None:
        """Add a new customer (in the write transaction); refuses leaving nothing written."""
        customer_id = record["id"]
        prefix = record.get("invoice_prefix")
        reserved = self._reserve_prefix(connection, prefix, customer_id)
        body = _encode(record)
        try:
            # One statement checks the tombstones (ids are never reused) and inserts.
            inserted = connection.execute(
                "INSERT INTO customers (id, created, email, body) SELECT ?, ?, ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE id = ?)",
                (customer_id, record["created"], record.get("email"), body, customer_id),
            ).rowcount
        except sqlite3.IntegrityError:
            inserted = 0
        if not inserted:
            if reserved:
                connection.execute("DELETE FROM invoice_prefixes WHERE prefix = ?", (prefix,))
            msg = f"Customer id {customer_id} is already taken."
            raise DuplicateKeyError(msg, key="id", value=customer_id)
        _rewrite_postings(connection, {}, _postings(customer_id, record["created"], record))
        self._written = (record, body)

    def insert_many(self, records: Iterable[Record]) -> None:
        batch = list(records)
        customers: list[tuple[Any, ...]] = []
        prefixes: list[tuple[str, str]] = []
        # The email postings (a list by email reads them); the others wait for the first
        # search (_post_unsearched). Records' ids are distinct: a list, not a set.
        emails: list[tuple[Any, ...]] = []
        for record in batch:
            customer_id = record["id"]
            customers.append((customer_id, record["created"], record.get("email"), _encode(record)))
            prefix = record.get("invoice_prefix")
            if prefix is not None:
                prefixes.append((prefix, customer_id))
            add_email_entry(record, emails)
        # By id alone: a file may give one id twice, with null beside a value.
        customers.sort(key=itemgetter(0))
        with self._writing() as connection:
            connection.execute("SAVEPOINT insert_many")
            try:
                # Row counts, not exceptions: a short count means a conflict. A prefix the
                # customer already holds counts as an (empty) update.
                reserved = _insert_rows(
                    connection,
                    "INSERT INTO invoice_prefixes (prefix, customer_id) {values} "
                    "ON CONFLICT (prefix) DO UPDATE SET customer_id = excluded.customer_id "
                    "WHERE customer_id = excluded.customer_id",
                    sorted(prefixes),
                )
                inserted = _insert_rows(
                    connection,
                    "INSERT OR IGNORE INTO customers (id, created, email, body) "
                    "SELECT * FROM ({values}) AS new "
                    "WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE id = new.column1)",
                    customers,
                )
                if reserved < len(prefixes) or inserted < len(customers):
                    raise self._conflict(connection, batch)
                # In key order: neighbouring postings share b-tree pages.
                _insert_rows(connection, _INSERT_POSTINGS_SQL["customer_words"], sorted(emails))
                if customers:
                    connection.execute(
                        "INSERT INTO customers_unsearched (customer_ids) VALUES (?)",
                        (pydantic_core.to_json([row[0] for row in customers]).decode(),),
                    )
            except BaseException:
                connection.execute("ROLLBACK TO insert_many")
                connection.execute("RELEASE insert_many")
                raise
            connection.execute("RELEASE insert_many")

    def _post_unsearched(self) -> None:
        """Write the search postings (words of name and phone, metadata values) of every
        customer insert_many left unsearched, from their stored JSON as it is now (a
        customer replaced since has its current ones; a deleted one is skipped), and drop
        their customers_unsearched rows: several write transactions, each of which
        re-reads the rows under the write lock, so another process's build or a kill
        between two of them leaves nothing half done (decisions.md, "Import and export")."""
        while True:
            with self._writing() as connection:
                rows = connection.execute(
                    "SELECT id, customer_ids FROM customers_unsearched ORDER BY id LIMIT ?",
                    (_UNSEARCHED_PER_TRANSACTION,),
                ).fetchall()
                if not rows:
                    return
                words: list[tuple[Any, ...]] = []
                metadata: list[tuple[Any, ...]] = []
                for _, customer_ids in rows:
                    for (body,) in connection.execute(_UNSEARCHED_BODIES, (customer_ids,)):
                        add_search_entries(searched_fields(body), words, metadata)
                for table, entries in (("customer_words", words), ("customer_metadata", metadata)):
                    # In key order: neighbouring postings share b-tree pages.
                    _insert_rows(connection, _POST_MISSING_SQL[table], sorted(entries))
                connection.execute("DELETE FROM customers_unsearched WHERE id <= ?", (rows[-1][0],))

    def _read_postings(self, read: Callable[[sqlite3.Connection], _T], *, all_terms: bool) -> _T:
        """``read(connection)`` of the posting tables; with ``all_terms``, once every
        customer's search postings are there (``_post_unsearched`` first when some are
        not). Without it, only the email postings are read: insert_many writes those."""
        while True:
            with self._reading() as connection:
                if not all_terms or connection.execute(_ANY_UNSEARCHED).fetchone() is None:
                    return read(connection)
            # Outside the read: the build takes the write lock (another process's import
            # may commit more unsearched customers meanwhile, hence the loop).
            self._post_unsearched()

    @staticmethod
    def _unsearched_ids(connection: sqlite3.Connection) -> set[str]:
        """The ids customers_unsearched lists (``check_consistency``)."""
        ids: set[str] = set()
        for (customer_ids,) in connection.execute("SELECT customer_ids FROM customers_unsearched"):
            listed = _decode(customer_ids)
            require(
                type(listed) is list and all(type(item) is str for item in listed),
                f"a customers_unsearched row is not a JSON array of ids: {customer_ids[:80]}",
            )
            ids.update(listed)
        return ids

    @staticmethod
    def _conflict(connection: sqlite3.Connection, batch: list[Record]) -> DuplicateKeyError:
        """The error ``insert`` would raise for the first refused record of ``batch``; the
        savepoint is rolled back first, so the checks see the store as it was."""
        connection.execute("ROLLBACK TO insert_many")
        seen: set[str] = set()
        claimed: dict[str, str] = {}
        for record in batch:
            customer_id = record["id"]
            prefix = record.get("invoice_prefix")
            if prefix is not None:
                holder = claimed.get(prefix)
                if holder is None:
                    row = connection.execute(
                        "SELECT customer_id FROM invoice_prefixes WHERE prefix = ?", (prefix,)
                    ).fetchone()
                    holder = None if row is None else row[0]
                if holder is not None and holder != customer_id:
                    msg = f"Invoice prefix {prefix} is already held by another customer."
                    return DuplicateKeyError(msg, key="invoice_prefix", value=prefix)
                claimed[prefix] = customer_id
            taken = (
                customer_id in seen
                or connection.execute(
                    "SELECT 1 FROM customers WHERE id = ? UNION ALL SELECT 1 FROM tombstones WHERE id = ?",
                    (customer_id, customer_id),
                ).fetchone()
            )
            if taken:
                msg = f"Customer id {customer_id} is already taken."
                return DuplicateKeyError(msg, key="id", value=customer_id)
            seen.add(customer_id)
        msg = "insert_many found a conflict it cannot name"  # unreachable: counts said so
        return DuplicateKeyError(msg, key="id", value="")

    def insert_tombstone(self, customer_id: str, created: int) -> None:
        with self._writing() as connection:
            inserted = connection.execute(
                "INSERT OR IGNORE INTO tombstones (id, created) SELECT ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM customers WHERE id = ?)",
                (customer_id, created, customer_id),
            ).rowcount
            if not inserted:
                msg = f"Customer id {customer_id} is already taken."
                raise DuplicateKeyError(msg, key="id", value=customer_id)

    def reserve_invoice_prefix(self, prefix: str, customer_id: str) -> bool:
        with self._writing() as connection:
            return self._reserve_prefix(connection, prefix, customer_id)

    @contextmanager
    def read_snapshot(self) -> Iterator[StoreSnapshot]:
        if self.path == ":memory:":
            # No second connection can see this database: hold the store's own instead.
            with self._reading() as connection:
                yield _SQLiteSnapshot(connection, self)
            return
        # A connection of its own, in a read transaction: WAL gives it the file as of its
        # first read, and writers of this store and other processes carry on meanwhile.
        with self._reading():
            pass  # a closed store fails here, as every call does
        try:
            connection = self._raw_connection()
            connection.execute("PRAGMA query_only = ON")
            connection.execute("BEGIN")
            connection.execute("SELECT COUNT(*) FROM schema_version").fetchone()
        except sqlite3.Error as error:
            raise self._fail("read a snapshot of", error) from error
        try:
            yield _SQLiteSnapshot(connection, self)
        except sqlite3.Error as error:
            raise self._fail("read a snapshot of", error) from error
        finally:
            connection.close()

    def get(self, customer_id: str) -> Record | None:
        with self._reading() as connection:
            row = connection.execute(
                "SELECT body FROM customers WHERE id = ?", (customer_id,)
            ).fetchone()
            return None if row is None else _decode(row[0])

    def is_deleted(self, customer_id: str) -> bool:
        with self._reading() as connection:
            return (
                connection.execute(
                    "SELECT 1 FROM tombstones WHERE id = ?", (customer_id,)
                ).fetchone()
                is not None
            )

    def sort_key(self, customer_id: str) -> SortKey | None:
        with self._reading() as connection:
            row = connection.execute(
                "SELECT created FROM customers WHERE id = ? UNION ALL SELECT created FROM tombstones WHERE id = ?",
                (customer_id, customer_id),
            ).fetchone()
        return None if row is None else (row[0], customer_id)

    @staticmethod
    def _live(
        connection: sqlite3.Connection, customer_id: str, action: str
    ) -> tuple[int, dict[str, Postings]]:
        """The created time and postings of a live customer, which ``action`` needs."""
        row = connection.execute(
            "SELECT created, body FROM customers WHERE id = ?", (customer_id,)
        ).fetchone()
        if row is None:
            msg = f"No live customer {customer_id} to {action}."
            raise RecordNotFoundError(msg)
        created, body = row
        return created, _postings(customer_id, created, _decode(body))

    def replace(self, record: Record) -> None:
        customer_id = record["id"]
        with self._writing() as connection:
            created, postings = self._live(connection, customer_id, "replace")
            self._reserve_prefix(connection, record.get("invoice_prefix"), customer_id)
            text = _encode({**record, "created": created})
            connection.execute(
                "UPDATE customers SET email = ?, body = ? WHERE id = ?",
                (record.get("email"), text, customer_id),
            )
            _rewrite_postings(connection, postings, _postings(customer_id, created, record))
            # The text is the record's own unless the record named another created time.
            kept = "created" in record and record["created"] == created
            self._written = (record, text) if kept else None

    def delete(self, customer_id: str) -> None:
        with self._writing() as connection:
            created, postings = self._live(connection, customer_id, "delete")
            connection.execute("DELETE FROM customers WHERE id = ?", (customer_id,))
            connection.execute("DELETE FROM tax_ids WHERE customer_id = ?", (customer_id,))
            _rewrite_postings(connection, postings, {})
            connection.execute(
                "INSERT INTO tombstones (id, created) VALUES (?, ?)", (customer_id, created)
            )

    def scan(
        self,
        key_range: KeyRange = KeyRange(),
        *,
        descending: bool = True,
        email: str | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        if email is None:
            conditions, arguments = SQLITE.range_conditions(key_range)
            return self._select(conditions, arguments, descending, limit)
        # The email's word (its lowercase address) gathers every letter case of the address,
        # in key order; the exact, case-sensitive email filters that group.
        conditions, arguments = SQLITE.range_conditions(
            key_range, id_column="w.customer_id", created_column="w.created"
        )
        where = " AND ".join(["w.field = 'email'", "w.word = ?", "c.email = ?", *conditions])
        direction = "DESC" if descending else "ASC"
        sql = (
            "SELECT c.body FROM customer_words AS w CROSS JOIN customers AS c "
            f"ON c.id = w.customer_id WHERE {where} "
            f"ORDER BY w.created {direction}, w.customer_id {direction} LIMIT ?"
        )
        arguments[:0] = [email.lower(), email]
        arguments.append(-1 if limit is None else limit)
        with self._reading() as connection:
            return [_decode(row[0]) for row in connection.execute(sql, arguments).fetchall()]

    def scan_containing(
        self, text: str, key_range: KeyRange = KeyRange(), *, limit: int
    ) -> list[Record]:
        # SQLite skips, without handing them to Python's JSON decoder, the rows whose body
        # cannot hold the text (see _may_contain); most of a search's cost is decoding.
        narrowed = SQLITE.containing(text, key_range)
        if narrowed is None:
            return self.scan(key_range, limit=limit)
        conditions, arguments = narrowed
        return self._select(conditions, arguments, True, limit)

    def _select(
        self, conditions: list[str], arguments: list[Any], descending: bool, limit: int | None
    ) -> list[Record]:
        """Bodies of the customers meeting ``conditions``, in key order."""
        sql, arguments = SQLITE.page(
            "customers", conditions, arguments, descending=descending, limit=limit
        )
        with self._reading() as connection:
            return [_decode(row[0]) for row in connection.execute(sql, arguments).fetchall()]

    def metadata_keys(
        self, key: str, value: str, key_range: KeyRange, *, limit: int
    ) -> list[SortKey]:
        sql, arguments = SQLITE.metadata_keys(key, value, key_range, limit)

        def read(connection: sqlite3.Connection) -> list[SortKey]:
            return [tuple(row) for row in connection.execute(sql, arguments)]

        return self._read_postings(read, all_terms=True)

    def word_keys(
        self, field: str, terms: Sequence[str], key_range: KeyRange, *, limit: int
    ) -> list[SortKey]:
        distinct = list(dict.fromkeys(terms))

        def read(connection: sqlite3.Connection) -> list[SortKey]:
            if len(distinct) > 1:
                # Walk the rarest term's postings (counted up to a cap) and look the others
                # up for each, inside SQLite: no record is read to narrow.
                def frequency(term: str) -> int:
                    count: int = connection.execute(_COUNT_TERM, (field, term)).fetchone()[0]
                    return count

                distinct.sort(key=frequency)
            sql, arguments = SQLITE.word_keys(field, distinct, key_range, limit)
            return [tuple(row) for row in connection.execute(sql, arguments).fetchall()]

        return self._read_postings(read, all_terms=field != "email")

    def idempotency_get(self, key: str) -> dict[str, Any] | None:
        with self._reading() as connection:
            row = connection.execute(
                "SELECT entry FROM idempotency_keys WHERE key = ?", (key,)
            ).fetchone()
            return None if row is None else _decode(row[0])

    def idempotency_put(self, key: str, entry: dict[str, Any]) -> None:
        with self._writing() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO idempotency_keys (key, created, entry) VALUES (?, ?, ?)",
                (key, entry["created"], _encode(entry)),
            )

    def idempotency_purge(self, before: int, *, limit: int = PURGE_LIMIT) -> int:
        with self._writing() as connection:
            return connection.execute(
                SQLITE_PURGES.idempotency.replace("%s", "?"), (before, limit)
            ).rowcount

    def insert_tax_id(self, record: Record) -> None:
        customer_id = record["customer"]
        with self._writing() as connection:
            if not connection.execute(
                "SELECT 1 FROM customers WHERE id = ?", (customer_id,)
            ).fetchone():
                msg = f"No live customer {customer_id} to add a tax ID to."
                raise RecordNotFoundError(msg)
            try:
                connection.execute(
                    "INSERT INTO tax_ids (customer_id, created, id, body) VALUES (?, ?, ?, ?)",
                    (customer_id, record["created"], record["id"], _encode(record)),
                )
            except sqlite3.IntegrityError:
                msg = f"Tax ID {record['id']} is already taken."
                raise DuplicateKeyError(msg, key="id", value=record["id"]) from None

    def get_tax_id(self, tax_id: str) -> Record | None:
        with self._reading() as connection:
            row = connection.execute("SELECT body FROM tax_ids WHERE id = ?", (tax_id,)).fetchone()
            return None if row is None else _decode(row[0])

    def delete_tax_id(self, tax_id: str) -> None:
        with self._writing() as connection:
            if not connection.execute("DELETE FROM tax_ids WHERE id = ?", (tax_id,)).rowcount:
                msg = f"No tax ID {tax_id} to delete."
                raise RecordNotFoundError(msg)

    def tax_ids(
        self,
        customer_id: str,
        key_range: KeyRange = KeyRange(),
        *,
        descending: bool = True,
        limit: int | None = None,
    ) -> list[Record]:
        conditions, arguments = SQLITE.range_conditions(key_range)
        sql, arguments = SQLITE.page(
            "tax_ids",
            ["customer_id = ?", *conditions],
            [customer_id, *arguments],
            descending=descending,
            limit=limit,
        )
        with self._reading() as connection:
            rows = connection.execute(sql, arguments).fetchall()
            return [_decode(row[0]) for row in rows]

    def _event_body(self, event: Record) -> str:
        """The event's JSON; when its ``data.object`` is the record this store just wrote,
        that record's JSON goes in as it was written instead of being encoded again."""
        data = event.get("data")
        written = self._written
        if (
            written is None
            or type(data) is not dict
            or data.get("object") is not written[0]
            or next(iter(data)) != "object"
        ):
            return _encode(event)
        # The slot changes for the one call, not copies of the event and its data.
        data["object"] = None
        try:
            text = _encode(event)
        finally:
            data["object"] = written[0]
        # A quote inside a JSON string is escaped, so the slot's text can only be structure;
        # found once, it is this event's own data.object.
        head, slot, tail = text.partition(_OBJECT_SLOT)
        if not slot or _OBJECT_SLOT in tail:
            return _encode(event)
        return "".join((head, _OBJECT_SLOT[:-4], written[1], tail))

    def event_insert(self, event: Record) -> None:
        with self._writing() as connection:
            self._insert_event(
                connection, event["id"], event["created"], event["type"], self._event_body(event)
            )

    def event_add(
        self,
        event_id: str,
        created: int,
        type: str,
        data_object: Record,
        request_id: str | None,
        idempotency_key: str | None,
        pending_webhooks: int,
        previous_attributes: Record | PreviousAttributes | None = None,
    ) -> None:
        if self._writer == threading.get_ident():
            # Inside this thread's write transaction, as the service records events: its
            # connection, without a hold of this call's own (_Access: ~9,000 instructions).
            connection = self._connection
            if connection is None or self._closed:
                connection = self._open_connection()  # raises StoreClosedError
            try:
                self._add_event(
                    connection,
                    event_id,
                    created,
                    type,
                    data_object,
                    request_id,
                    idempotency_key,
                    pending_webhooks,
                    previous_attributes,
                )
            except (sqlite3.Error, ValueError) as error:
                raise self._fail("write to", error) from error
            return
        with self._writing() as connection:
            self._add_event(
                connection,
                event_id,
                created,
                type,
                data_object,
                request_id,
                idempotency_key,
                pending_webhooks,
                previous_attributes,
            )

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
        # One write transaction (or a part of the caller's): a refusal of either rolls back
        # the call's own, or, inside a caller's block, leaves the block to roll back
        # (``Store.insert_with_event``).
        with self._writing() as connection:
            self._insert_customer(connection, record)
            self._add_event(
                connection,
                event_id,
                created,
                type,
                record,
                request_id,
                idempotency_key,
                pending_webhooks,
                None,
            )

    def _add_event(
        self,
        connection: sqlite3.Connection,
        event_id: str,
        created: int,
        type: str,
        data_object: Record,
        request_id: str | None,
        idempotency_key: str | None,
        pending_webhooks: int,
        previous_attributes: Record | PreviousAttributes | None,
    ) -> None:
        """``event_add`` in the write transaction: the body put together from the parts
        (``event_body``), around the customer's JSON as it was just written."""
        previous: Record | None  # resolved(), without its call
        if isinstance(previous_attributes, PreviousAttributes):
            previous = previous_attributes.value()
        else:
            previous = previous_attributes
        written = self._written
        body = event_body(
            event_id,
            created,
            type,
            written[1]
            if written is not None and written[0] is data_object
            else _encode(data_object),
            request_id,
            idempotency_key,
            pending_webhooks,
            None if previous is None else _to_json(previous).decode(),  # _encode, inline
        )
        if body is None:  # not parts event_body writes as they are
            body = _encode(
                event_of(
                    event_id,
                    created,
                    type,
                    data_object,
                    request_id,
                    idempotency_key,
                    pending_webhooks,
                    previous,
                )
            )
        try:  # _insert_event, without its call
            self._events.insert(connection, event_id, created, type, body)
        except sqlite3.IntegrityError:
            msg = f"Event id {event_id} is already taken."
            raise DuplicateKeyError(msg, key="id", value=event_id) from None

    def _insert_event(
        self, connection: sqlite3.Connection, event_id: str, created: int, type: str, body: str
    ) -> None:
        try:
            self._events.insert(connection, event_id, created, type, body)
        except sqlite3.IntegrityError:
            msg = f"Event id {event_id} is already taken."
            raise DuplicateKeyError(msg, key="id", value=event_id) from None

    def event_get(self, event_id: str) -> Record | None:
        with self._reading() as connection:
            body = self._events.get(connection, event_id)
            return None if body is None else _decode(body)

    def event_json_many(self, event_ids: Collection[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._reading() as connection:
            for event_id in set(event_ids):
                body = self._events.get(connection, event_id)
                if body is not None:
                    found[event_id] = body.encode()  # as written: JSON, not decoded
        return found

    def event_scan(
        self,
        key_range: KeyRange = KeyRange(),
        *,
        descending: bool = True,
        types: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        with self._reading() as connection:
            bodies = self._events.scan(
                connection, key_range, descending=descending, types=types, limit=limit
            )
            return [_decode(body) for body in bodies]

    def webhook_endpoint_put(self, endpoint: Record) -> None:
        with self._writing() as connection:
            row = connection.execute(
                "SELECT created FROM webhook_endpoints WHERE id = ?", (endpoint["id"],)
            ).fetchone()
            created = endpoint["created"] if row is None else row[0]
            connection.execute(
                "INSERT OR REPLACE INTO webhook_endpoints (id, created, body) VALUES (?, ?, ?)",
                (endpoint["id"], created, _encode({**endpoint, "created": created})),
            )

    def webhook_endpoint_get(self, endpoint_id: str) -> Record | None:
        with self._reading() as connection:
            row = connection.execute(
                "SELECT body FROM webhook_endpoints WHERE id = ?", (endpoint_id,)
            ).fetchone()
            return None if row is None else _decode(row[0])

    def webhook_endpoint_delete(self, endpoint_id: str) -> None:
        with self._writing() as connection:
            deleted = connection.execute(
                "DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,)
            ).rowcount
            if not deleted:
                msg = f"No webhook endpoint {endpoint_id} to delete."
                raise RecordNotFoundError(msg)

    def webhook_endpoint_scan(
        self, key_range: KeyRange = KeyRange(), *, descending: bool = True, limit: int | None = None
    ) -> list[Record]:
        conditions, arguments = SQLITE.range_conditions(key_range)
        sql, arguments = SQLITE.page(
            "webhook_endpoints", conditions, arguments, descending=descending, limit=limit
        )
        with self._reading() as connection:
            return [_decode(row[0]) for row in connection.execute(sql, arguments).fetchall()]

    def event_purge(self, before: int, *, limit: int = PURGE_LIMIT) -> int:
        with self._writing() as connection:
            return self._events.purge(connection, before, limit)

    # --- webhook deliveries ---------------------------------------------------------------

    def outbox_add(self, deliveries: Sequence[Record]) -> None:
        with self._writing() as connection:
            try:
                connection.executemany(
                    _OUTBOX_INSERT.replace("%s", "?"), map(_outbox_row, deliveries)
                )
            except sqlite3.IntegrityError:
                msg = "A delivery of one of these events to one of these endpoints exists."
                raise DuplicateKeyError(msg, key="id", value=_delivery_ids(deliveries)) from None

    def outbox_next_due(self) -> float | None:
        with self._reading() as connection:
            row = connection.execute(_OUTBOX_NEXT_DUE).fetchone()
            return None if row is None else row[0]

    def outbox_claim(self, now: float, lease_until: float, limit: int) -> list[Record]:
        with self._writing() as connection:
            rows = connection.execute(_OUTBOX_DUE.replace("%s", "?"), (now, limit)).fetchall()
            connection.executemany(
                _OUTBOX_LEASE.replace("%s", "?"), [(lease_until, *row[:2]) for row in rows]
            )
        return [_delivery(row, lease_until) for row in rows]

    def outbox_settle(self, deliveries: Sequence[Record], attempts: Sequence[Record]) -> None:
        kept, removed = _settled(deliveries)
        with self._writing() as connection:
            connection.executemany(_OUTBOX_UPDATE.replace("%s", "?"), kept)
            connection.executemany(_OUTBOX_DELETE.replace("%s", "?"), removed)
            try:
                connection.executemany(
                    "INSERT INTO webhook_attempts (id, created, endpoint_id, body) VALUES (?, ?, ?, ?)",
                    [_attempt_row(attempt) for attempt in attempts],
                )
            except sqlite3.IntegrityError:
                msg = "A delivery attempt id is already taken."
                value = ", ".join(attempt["id"] for attempt in attempts)
                raise DuplicateKeyError(msg, key="id", value=value) from None

    def outbox_pending(self, event_ids: Collection[str]) -> dict[str, int]:
        ids = list(event_ids)
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        with self._reading() as connection:
            return dict(
                connection.execute(
                    f"SELECT event_id, COUNT(*) FROM webhook_outbox WHERE event_id IN ({marks}) "
                    "GROUP BY event_id",
                    ids,
                ).fetchall()
            )

    def outbox_event_ids(self) -> set[str]:
        with self._reading() as connection:
            return {row[0] for row in connection.execute(_OUTBOX_EVENTS)}

    def outbox_cancel(self, endpoint_id: str) -> int:
        with self._writing() as connection:
            statement = _OUTBOX_CANCEL.replace("%s", "?")
            return connection.execute(statement, (endpoint_id,)).rowcount

    def outbox_purge(self, before: float, *, limit: int = PURGE_LIMIT) -> int:
        with self._writing() as connection:
            removed = 0
            for statement in SQLITE_PURGES.outbox:
                arguments = (before, limit - removed)
                removed += connection.execute(statement.replace("%s", "?"), arguments).rowcount
            return removed

    def delivery_attempt_get(self, attempt_id: str) -> Record | None:
        with self._reading() as connection:
            row = connection.execute(_ATTEMPT_GET.replace("%s", "?"), (attempt_id,)).fetchone()
            return None if row is None else _decode(row[0])

    def delivery_attempt_scan(
        self,
        key_range: KeyRange = KeyRange(),
        *,
        endpoint: str | None = None,
        descending: bool = True,
        limit: int | None = None,
    ) -> list[Record]:
        query, arguments = attempt_page(
            SQLITE, key_range, endpoint, descending=descending, limit=limit
        )
        with self._reading() as connection:
            return [_decode(row[0]) for row in connection.execute(query, arguments).fetchall()]

    def count(self) -> int:
        with self._reading() as connection:
            return int(connection.execute("SELECT COUNT(*) FROM customers").fetchone()[0])

    def snapshot(self) -> dict[str, Any]:
        with self._reading() as connection:
            customers = [
                _decode(row[0])
                for row in connection.execute("SELECT body FROM customers ORDER BY created, id")
            ]
            tombstones = dict(connection.execute("SELECT id, created FROM tombstones").fetchall())
            prefixes = dict(
                connection.execute("SELECT prefix, customer_id FROM invoice_prefixes").fetchall()
            )
            keys = {
                key: _decode(entry)
                for key, entry in connection.execute("SELECT key, entry FROM idempotency_keys")
            }
            tax_ids = [
                _decode(row[0])
                for row in connection.execute(
                    "SELECT body FROM tax_ids ORDER BY customer_id, created, id"
                )
            ]
            events = [_decode(body) for body in self._events.bodies(connection)]
            endpoints = [
                _decode(row[0])
                for row in connection.execute(
                    "SELECT body FROM webhook_endpoints ORDER BY created, id"
                )
            ]
        return {
            "customers": customers,
            "tombstones": tombstones,
            "invoice_prefixes": prefixes,
            "idempotency_keys": keys,
            "tax_ids": tax_ids,
            "events": events,
            "webhook_endpoints": endpoints,
        }

    def checkpoint(self) -> Checkpoint:
        # Every table of the file, whoever added it, row by row (rowids kept where the
        # table has them); inside a write transaction, so no other process writes between
        # two tables.
        with self._writing() as connection:
            state: dict[str, tuple[list[str], list[Any]]] = {}
            for table, has_rowid in _content_tables(connection):
                selected = "rowid, *" if has_rowid else "*"
                cursor = connection.execute(f'SELECT {selected} FROM "{table}"')
                columns = [column[0] for column in cursor.description]
                state[table] = (columns, cursor.fetchall())
        return Checkpoint(type(self), state)

    def restore(self, checkpoint: Checkpoint) -> None:
        state: dict[str, tuple[list[str], list[Any]]] = self._checkpoint_state(checkpoint)
        with self._writing() as connection:
            self._events = EventTables()  # the type codes it knew may be gone
            tables = [table for table, _ in _content_tables(connection)]
            if sorted(tables) != sorted(state):
                msg = f"This checkpoint was taken from a customer store with other tables than {self.path}."
                raise ValueError(msg)
            connection.execute("PRAGMA defer_foreign_keys = ON")
            for table in tables:
                connection.execute(f'DELETE FROM "{table}"')
            # Inserting rows of AUTOINCREMENT tables writes counters: put the saved ones last.
            for table, (columns, rows) in sorted(
                state.items(), key=lambda item: item[0] == "sqlite_sequence"
            ):
                if table == "sqlite_sequence":
                    connection.execute("DELETE FROM sqlite_sequence")
                names = ", ".join(f'"{column}"' for column in columns)
                marks = ", ".join("?" * len(columns))
                connection.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)

    def backup(self, target: str | os.PathLike[str]) -> None:
        """Copy the live database to ``target`` consistently (SQLite's online backup API)."""
        with self._reading() as connection:
            try:
                _create_private(os.fspath(target))
                destination = sqlite3.connect(os.fspath(target))
                try:
                    connection.backup(destination)
                finally:
                    destination.close()
            except sqlite3.Error as error:
                # Name both files: the usual fault is the target (not SQLite, no such directory).
                msg = f"Could not back up the customer store {self.path} to {target}: {error}"
                raise StoreError(msg) from error

    def files(self) -> tuple[str, ...]:
        if self.path in ("", ":memory:"):
            return ()
        # SQLite names its side files after the data file's real path (it follows links).
        data_file = os.path.realpath(self.path)
        return tuple(f"{data_file}{suffix}" for suffix in ("", *SIDE_FILE_SUFFIXES))

    def close(self) -> None:
        with self._lock:
            with self._readers_lock:
                self._closed = True
                readers, self._readers = self._readers, []
            for reader in readers:
                reader.close()
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def check_consistency(self) -> None:
        with self._reading() as connection:
            integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
            require(integrity == "ok", f"SQLite integrity check: {integrity}")
            expected: dict[str, Postings] = {table: set() for table in _POSTING_SQL}
            # Unsearched customers may lack their search postings (all, or those a replace
            # did not write), never their email's.
            unsearched = self._unsearched_ids(connection)
            optional: dict[str, Postings] = {table: set() for table in _POSTING_SQL}
            for customer_id, created, email, email_words, body in connection.execute(
                "SELECT id, created, email, email_words, body FROM customers"
            ):
                record = _decode(body)
                require(
                    (record["id"], record["created"], record.get("email"))
                    == (customer_id, created, email),
                    f"the columns of {customer_id} do not match its body",
                )
                require(email_words is None, f"{customer_id} has email_words (retired in 7)")
                check_customer(connection, SQLITE, record, expected)
                if customer_id in unsearched:
                    unsearched.discard(customer_id)
                    postings = _postings(customer_id, created, record)
                    optional["customer_metadata"] |= postings["customer_metadata"]
                    optional["customer_words"] |= {
                        row for row in postings["customer_words"] if row[0] != "email"
                    }
            both = connection.execute(
                "SELECT COUNT(*) FROM customers JOIN tombstones USING (id)"
            ).fetchone()[0]
            require(both == 0, f"{both} ids are both live and deleted")
            for customer_id in unsearched:  # not live: deleted since, or never stored
                require(
                    connection.execute(
                        "SELECT 1 FROM tombstones WHERE id = ?", (customer_id,)
                    ).fetchone()
                    is not None,
                    f"customers_unsearched lists {customer_id}, neither live nor deleted",
                )
            check_postings_and_tax_ids(connection, expected, optional)
            orphans = connection.execute(
                "SELECT COUNT(*) FROM tax_ids WHERE customer_id NOT IN (SELECT id FROM customers)"
            ).fetchone()[0]
            require(orphans == 0, f"{orphans} tax IDs belong to no live customer")
            problems = self._events.check(connection)
            require(not problems, "; ".join(problems[:5]))


_COUNT_TERM = (
    "SELECT COUNT(*) FROM (SELECT 1 FROM customer_words WHERE field = ? AND word = ? LIMIT 1000)"
)
"""A term's postings, counted up to 1,000: enough to tell a rare term from a common one."""


_DELETED_PREFIXES = "FROM invoice_prefixes AS p JOIN tombstones AS t ON t.id = p.customer_id"


class _SQLiteSnapshot(StoreSnapshot):
    """Reads over a connection inside one read transaction (see ``read_snapshot``)."""

    def __init__(self, connection: sqlite3.Connection, store: SQLiteStore) -> None:
        self._connection = connection
        self._store = store
        # Live records holding a prefix, once a walk over all of them counted them.
        self._holding_prefix: int | None = None

    def _rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, fetched a batch at a time (memory stays flat)."""
        try:
            cursor = self._connection.execute(sql)
            while rows := cursor.fetchmany(500):
                yield from rows
        except sqlite3.Error as error:
            raise self._store._fail("read a snapshot of", error) from error

    def count(self) -> int:
        return int(next(self._rows("SELECT COUNT(*) FROM customers"))[0])

    def records(self, *, descending: bool = True) -> Iterator[Record]:
        direction = "DESC" if descending else "ASC"
        holding = 0
        for (body,) in self._rows(
            f"SELECT body FROM customers ORDER BY created {direction}, id {direction}"
        ):
            record = self._decoded(body)
            holding += record.get("invoice_prefix") is not None
            yield record
        self._holding_prefix = holding

    def records_json(self, *, descending: bool = True) -> Iterator[bytes]:
        # Bodies are pydantic-core's compact JSON of the record (json's, with the same
        # separators and escapes, before schema version 5): hand them out as they are.
        direction = "DESC" if descending else "ASC"
        holding = 0
        for (body,) in self._rows(
            f"SELECT CAST(body AS BLOB) FROM customers ORDER BY created {direction}, id {direction}"
        ):
            holding += holds_invoice_prefix(body)
            yield body
        self._holding_prefix = holding

    def _decoded(self, body: str) -> Record:
        try:
            record: Record = _decode(body)
        except ValueError as error:
            raise self._store._fail("read a snapshot of", error) from error
        return record

    def tombstones(self) -> Iterator[tuple[str, int]]:
        yield from self._rows("SELECT id, created FROM tombstones ORDER BY id")

    def tax_ids(self) -> Iterator[Record]:
        for (body,) in self._rows("SELECT body FROM tax_ids ORDER BY customer_id, created, id"):
            yield self._decoded(body)

    def former_invoice_prefixes(self) -> Iterator[tuple[str, str]]:
        if self._holding_prefix is not None:
            # Each live record holding a prefix holds it reserved: when those and the
            # deleted customers' prefixes are all there are, the latter are the answer,
            # found without reading a single customer.
            (total,) = next(self._rows("SELECT COUNT(*) FROM invoice_prefixes"))
            (deleted,) = next(self._rows(f"SELECT COUNT(*) {_DELETED_PREFIXES}"))
            if total == self._holding_prefix + deleted:
                yield from self._rows(
                    f"SELECT p.customer_id, p.prefix {_DELETED_PREFIXES} "
                    "ORDER BY p.customer_id, p.prefix"
                )
                return
        # A prefix is current when the record's own invoice_prefix field holds it (read
        # from the parsed body: a metadata key of that name may come before it in the text;
        # the join, not the parse, is what this query spends its time on).
        sql = """SELECT p.customer_id, p.prefix FROM invoice_prefixes AS p
            LEFT JOIN customers AS c ON c.id = p.customer_id
            WHERE c.body IS NULL OR json_extract(c.body, '$.invoice_prefix') IS NOT p.prefix
            ORDER BY p.customer_id, p.prefix"""
        yield from self._rows(sql)


def _content_tables(connection: sqlite3.Connection) -> list[tuple[str, bool]]:
    """The tables holding the store's content, and whether each has rowids: every table
    and virtual table of the file (not the shadow tables of virtual ones, which follow
    them, nor SQLite's own catalog and statistics; AUTOINCREMENT counters included)."""
    tables = []
    for schema, name, kind, _, without_rowid, _ in connection.execute("PRAGMA table_list"):
        if schema != "main" or kind not in ("table", "virtual"):
            continue
        if name.startswith("sqlite_") and name != "sqlite_sequence":
            continue
        tables.append((name, not without_rowid and name != "sqlite_sequence"))
    return tables


def _may_contain(body: str, text: str) -> bool:
    """Whether a customer's JSON body may hold a value that contains ``text`` (lowercase,
    matched by _SAFE_TEXT) case-insensitively. Exact in one direction: JSON writes such a
    value's characters around the text as they are, and str.lower() folds them the same
    in the body as in the value. A body with \\u escapes (JSON from another writer may
    escape any character) is let through."""
    return text in body.lower() or "\\u" in body
