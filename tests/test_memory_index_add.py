"""MemoryStore's one-call index add (``store.memory._add``) leaves a SortedList exactly as
``SortedList.add`` does: the same sublists, maxima, length and positional index, through
sublist splits and with a positional index built by a read."""

from __future__ import annotations

import random

from sortedcontainers import SortedList  # type: ignore[import-untyped]

from customer_core.store.memory import _add


def layout(index: SortedList) -> tuple[object, ...]:
    return (index._lists, index._maxes, index._len, index._index, index._offset)


def test_adds_match_sortedlists_own() -> None:
    rng = random.Random(5)
    ours, theirs = SortedList(), SortedList()
    for step in range(6000):
        value = (rng.choice("abc"), rng.randrange(50), f"cus_{rng.randrange(10**6):07d}")
        _add(ours, value)
        theirs.add(value)
        if step % 1500 == 700:  # a positional read builds the index add must then keep up
            assert ours[step // 2] == theirs[step // 2]
        assert layout(ours) == layout(theirs), step
    assert list(ours) == sorted(ours) and len(ours._lists) > 2
