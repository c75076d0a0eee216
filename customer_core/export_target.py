"""Where an export to a path writes: whole files replaced atomically, everything else
written in place, and never the store being exported."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from .errors import InvalidRequestError
from .store.base import Store


@contextmanager
def export_file(target: str | os.PathLike[str], store: Store) -> Iterator[IO[bytes]]:
    """The file to write an export of ``store`` into, put at ``target`` when the block
    ends without an error.

    A regular file (or a new one) is built beside its real path and renamed over it, so a
    cut-short export never replaces it and its permissions are kept; a symlink's target
    gets that treatment, not the link. A FIFO, a device or anything else that is not a
    regular file (``/dev/null``, ``/dev/stdout``) is written in place, as a shell's ``>``
    would. Naming the store's own data file (or its WAL) is refused before anything is
    written.
    """
    path = os.path.realpath(os.fspath(target))
    _refuse_the_store_itself(path, store)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(path, "wb") as file:
            yield file
        return
    directory, name = os.path.split(path)
    partial = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.partial")
    # Created as a new file is (0o666 less the umask); an existing file's mode is kept.
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:  # named as the file asked for: the partial one is ours
        raise OSError(error.errno, error.strerror, os.fspath(target)) from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
        if mode is not None:
            os.chmod(partial, stat.S_IMODE(mode))
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)


def _refuse_the_store_itself(path: str, store: Store) -> None:
    for candidate in store.files():
        same = candidate == path
        with contextlib.suppress(OSError):
            same = same or os.path.samefile(candidate, path)
        if same:
            msg = (
                f"Cannot export to {path}: it is the customer store's own data file; "
                "choose another output file."
            )
            raise InvalidRequestError(msg, param="output")
