"""ThreadBlock: the re-entrant per-thread block the event bus and the PostgreSQL store share."""

from __future__ import annotations

import threading

import pytest

from customer_core.store.base import ThreadBlock


class Recording(ThreadBlock):
    def __init__(self, fail_open: bool = False) -> None:
        super().__init__()
        self.calls: list[tuple[str, str | None]] = []
        self.fail_open = fail_open

    def _open(self) -> None:
        if self.fail_open:
            raise RuntimeError("cannot open")
        self.calls.append(("open", None))

    def _close(self, error: BaseException | None) -> None:
        self.calls.append(("close", None if error is None else str(error)))


def test_only_the_outermost_block_opens_and_closes() -> None:
    block = Recording()
    with block:
        with block, block:
            assert block.local.depth == 3
        assert block.calls == [("open", None)]
    assert block.calls == [("open", None), ("close", None)]
    assert block.local.depth == 0


def test_the_outermost_close_sees_the_error_leaving_it() -> None:
    block = Recording()
    with pytest.raises(ValueError, match="boom"), block:
        with block:
            raise ValueError("boom")
    assert block.calls == [("open", None), ("close", "boom")]


def test_a_failed_open_enters_nothing() -> None:
    block = Recording(fail_open=True)
    with pytest.raises(RuntimeError), block:
        pass  # pragma: no cover - never entered
    assert block.local.depth == 0
    assert block.calls == []


def test_each_thread_has_its_own_depth() -> None:
    block = Recording()
    inside = threading.Event()
    leave = threading.Event()

    def other() -> None:
        with block:
            inside.set()
            leave.wait(timeout=30)

    thread = threading.Thread(target=other)
    with block:
        thread.start()
        assert inside.wait(timeout=30)
        # The other thread's block is an outermost block of its own.
        assert block.calls == [("open", None), ("open", None)]
        assert block.local.depth == 1
    leave.set()
    thread.join(timeout=30)
    assert block.calls.count(("close", None)) == 2
