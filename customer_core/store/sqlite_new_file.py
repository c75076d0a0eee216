"""A new SQLite data file built in one go (an import into a file that does not exist yet).

The file is written beside its place, as ``PATH.partial``, with its rollback journal in
memory instead of a WAL and without an fsync per write (``synchronous=OFF``): a store
file's WAL writes every page twice and its savepoints' sub-journals once more, and none
of that protects anything here, since nothing reads the partial file and a crash may
leave it torn. When the build ends well the file is switched to WAL (as every store file
is), closed, fsynced, and linked into place under ``PATH``, and the directory is fsynced:
``PATH`` appears whole or not at all. A failure removes the partial file; a ``kill -9``
or a power loss leaves it, named as what it is, and the next build into ``PATH``
replaces it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import StoreError
from .sqlite import SIDE_FILE_SUFFIXES, SQLiteStore

__all__ = ["PARTIAL_SUFFIX", "new_sqlite_file"]

PARTIAL_SUFFIX = ".partial"
"""The suffix of a data file being built."""


class _Building(SQLiteStore):
    """A store on a partial file: opened as any store file (WAL, its schema made), then
    its journal moved to memory and its syncs turned off for the build."""

    def _connect(self) -> sqlite3.Connection:
        connection = super()._connect()
        try:
            connection.execute("PRAGMA journal_mode=MEMORY")
            connection.execute("PRAGMA synchronous=OFF")
        except sqlite3.Error as error:
            connection.close()
            raise self._fail("open", error) from error
        return connection

    def finish(self) -> None:
        """Switch the file back to WAL (a persistent setting of the file) and close it."""
        with self._lock:
            try:
                self._open_connection().execute("PRAGMA journal_mode=WAL")
            except sqlite3.Error as error:
                raise self._fail("write to", error) from error
        self.close()


def _remove(path: str) -> None:
    for name in (path, *(path + suffix for suffix in SIDE_FILE_SUFFIXES)):
        with contextlib.suppress(FileNotFoundError):
            os.remove(name)


def _fsync(path: str, *, directory: bool = False) -> None:
    descriptor = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def new_sqlite_file(path: str | os.PathLike[str]) -> Iterator[SQLiteStore]:
    """A store on a data file that does not exist yet, built as ``PATH.partial`` and put in
    place as ``PATH`` when the block ends without an exception (see the module docstring).
    Everything it holds must be written inside the block: the file is not durable until
    then, and the store is closed when it ends. Raises StoreError if ``PATH`` exists."""
    target = os.fspath(path)
    if os.path.lexists(target):
        msg = f"Could not create the customer store {target}: it exists already"
        raise StoreError(msg)
    partial = target + PARTIAL_SUFFIX
    _remove(partial)  # a killed build's leftover
    store = _Building(partial)
    built = os.stat(partial).st_ino
    try:
        yield store
        store.finish()
        _fsync(partial)
        if os.stat(partial).st_ino != built:
            msg = (
                f"Could not create the customer store {target}: another process replaced "
                f"{partial} while this one built it"
            )
            raise StoreError(msg)
        _put_in_place(partial, target)
        _fsync(os.path.dirname(os.path.abspath(target)), directory=True)
    finally:
        store.close()
        with contextlib.suppress(FileNotFoundError):
            if os.stat(partial).st_ino == built:
                _remove(partial)


def _put_in_place(partial: str, target: str) -> None:
    """Give the built file its name, never over a file that appeared there meanwhile."""
    try:
        os.link(partial, target)  # fails if the target exists, unlike a rename
    except FileExistsError:
        msg = (
            f"Could not create the customer store {target}: another process created it "
            "while this one built it"
        )
        raise StoreError(msg) from None
    except OSError:  # a file system without hard links
        if os.path.lexists(target):
            raise
        os.rename(partial, target)
    else:
        os.remove(partial)
