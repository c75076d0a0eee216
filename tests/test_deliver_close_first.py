"""``deliver_until_stopped`` closes its store before it gives the stop signals back: a
SIGTERM at any moment of a delivery process's stop finds the handler that closes the
store, so no WAL file is left behind (issue 13, last session's notes)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from customer_core import SQLiteStore
from customer_core.events.process import deliver_until_stopped


class RecordingStore(SQLiteStore):
    """A SQLite store that notes which SIGTERM handler is in place when it is closed."""

    handlers_at_close: list[Any]

    def close(self) -> None:
        self.handlers_at_close.append(signal.getsignal(signal.SIGTERM))
        super().close()


def test_the_store_is_closed_while_the_stop_signals_are_still_caught(tmp_path: Path) -> None:
    path = tmp_path / "customers.db"
    opened = threading.Event()
    stores: list[RecordingStore] = []

    def open_store() -> RecordingStore:
        store = RecordingStore(path)
        store.handlers_at_close = []
        stores.append(store)
        opened.set()
        return store

    def terminate() -> None:
        if opened.wait(60):
            os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    sender = threading.Thread(target=terminate)
    sender.start()
    try:
        received = deliver_until_stopped(open_store, stop_wait=1.0, poll_interval=0.05)
    finally:
        sender.join()
    assert received == signal.SIGTERM
    [store] = stores
    # Closed once, while deliver_until_stopped's own handler was in place ...
    assert len(store.handlers_at_close) >= 1
    assert store.handlers_at_close[0] not in (before, signal.SIG_DFL)
    # ... and the caller's handler is back afterwards, with the WAL folded in.
    assert signal.getsignal(signal.SIGTERM) is before
    assert not Path(f"{path}-wal").exists()


def test_a_store_that_cannot_open_gives_the_signals_back(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)

    def open_store() -> SQLiteStore:
        raise FileNotFoundError(tmp_path / "missing.db")

    with pytest.raises(FileNotFoundError):
        deliver_until_stopped(open_store, stop_wait=1.0)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
