"""A bulk write into a store file that no other connection has open, through a rollback
journal held exclusively instead of the WAL (an import: ``import_customers(...,
exclusive=True)``, which ``customer-core import`` asks for).

In WAL mode every page a transaction writes goes into the WAL, and its commit's
checkpoint copies it into the data file: each page is written twice, about a fifth of a
1M-customer import's time in system calls. With a rollback journal a page that the file
did not hold before the transaction (all of them, when an import fills a new or small
store) is written once, into the data file; the journal holds the old contents of the
pages that existed. Crash safety is SQLite's own for that mode: a kill or a power loss
during the transaction leaves a hot journal, which the next connection to open the file
plays back, so the store is as it was; the commit is durable (in exclusive locking mode
SQLite commits by zeroing the journal's header and syncing it, and ``synchronous=EXTRA``
also syncs the directory when a journal is deleted).

Readers: the WAL lets other connections read while one writes, a rollback journal does
not. So the path is taken only when SQLite can take the whole file: leaving WAL mode
fails while another connection has the file open (a server, another store), and the
write then keeps the WAL. While the block runs the file is held in exclusive locking
mode, so a connection that opens it meanwhile waits (up to its busy timeout) for the
block to end and never reads part of it. At the end the file is switched back to WAL,
as every store file is, and released.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from .sqlite import SQLiteStore

__all__ = ["held_exclusively"]


@contextmanager
def held_exclusively(store: SQLiteStore) -> Iterator[bool]:
    """Hold ``store``'s file exclusively, with a rollback journal, for the block, and yield
    True; yield False and change nothing when that cannot be done safely (another
    connection has the file open, a transaction is open, or the store is in memory).
    Write inside the block in a transaction of the store, as usual."""
    with store._lock:
        connection = store._open_connection()
        if store.path in (":memory:", "") or store.transaction().depth:
            yield False
            return
        with store._readers_lock:  # the store's own idle readers would refuse the switch
            readers, store._readers = store._readers, []
        for reader in readers:
            reader.close()
        try:
            connection.execute("PRAGMA locking_mode=EXCLUSIVE")
            (mode,) = connection.execute("PRAGMA journal_mode=DELETE").fetchone()
        except sqlite3.OperationalError:  # another connection has the file open
            mode = "wal"
        if mode != "delete":
            _release(store, connection)
            yield False
            return
        try:
            connection.execute("PRAGMA synchronous=EXTRA")
            yield True
        finally:
            _release(store, connection)


def _release(store: SQLiteStore, connection: sqlite3.Connection) -> None:
    """Back to WAL, the store's synchronous setting and normal locking; the file is free
    for other connections once this returns."""
    try:
        connection.execute("PRAGMA locking_mode=NORMAL")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={store.synchronous}")
        # Locking mode NORMAL takes effect when the connection next lets go of the file.
        connection.execute("SELECT 1 FROM schema_version LIMIT 1").fetchall()
    except sqlite3.Error as error:
        raise store._fail("write to", error) from error
