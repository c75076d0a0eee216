"""Ids counted up within a millisecond (a frozen clock: every id of a test) take their text
from the last id's, with only the final two characters replaced: the text must be the
ULID encoding of the counted value, across carries, clock steps and restored states."""

from __future__ import annotations

import ulid

from customer_core.ids import IdGenerator, encode_ulid
from customer_core.testing import FakeClock


def values(ids: list[str]) -> list[int]:
    return [ulid.parse(text[4:]).int for text in ids]


def test_counted_ids_are_the_encoding_of_their_value_across_carries() -> None:
    clock = FakeClock(1_700_000_000)
    generator = IdGenerator(clock=clock, seed=3)
    made = [generator.customer_id() for _ in range(2500)]  # past two carries of 10 bits
    clock.advance(0.001)
    made += [generator.tax_id() for _ in range(3)]  # a new millisecond: fresh bits
    clock.set(1_600_000_000)  # back in time: counted up from the last id again
    made += [generator.customer_id() for _ in range(1100)]
    numbers = values(made)
    assert [text[4:] for text in made] == [encode_ulid(number) for number in numbers]
    steps = [b - a for a, b in zip(numbers, numbers[1:], strict=False)]
    assert all(step >= 1 for step in steps)
    # A fresh draw above the last id is kept; below it, the id counts up (most of them).
    assert steps[:2499].count(1) > 2400 and steps[2502:] == [1] * 1100


def test_a_restored_state_counts_on_from_its_own_last_id() -> None:
    generator = IdGenerator(clock=lambda: 1_700_000_000, seed=5)
    for _ in range(50):
        generator.customer_id()
    state = generator.get_state()
    first = [generator.customer_id() for _ in range(100)]  # counted up, most of them
    for _ in range(70):
        generator.customer_id()
    generator.set_state(state)
    assert [generator.customer_id() for _ in range(100)] == first


def test_the_same_seed_gives_the_same_ids_in_a_fresh_generator() -> None:
    def run() -> list[str]:
        generator = IdGenerator(clock=lambda: 1_700_000_000, seed=9)
        return [generator.customer_id() for _ in range(40)]

    assert run() == run()
