"""What the fifth pass over the cost of recording events keeps: ``evt_`` ids from
``EventIdGenerator`` (ULIDs in the spec's monotonic mode: seeded, increasing, of the
clock's milliseconds), and ``previous_attributes`` of an update computed from the fields
it was given, as the whole-record comparison computes it."""

from __future__ import annotations

import random
from typing import Any

import pytest
import ulid
from hypothesis import given, settings
from hypothesis import strategies as st

from customer_core import CustomerService, MemoryStore
from customer_core.events.diff import previous_attributes
from customer_core.ids import EventIdGenerator
from customer_core.models import Customer
from customer_core.testing import FakeClock

NOW = 1_700_000_000


def _value(event_id: str) -> int:
    assert event_id.startswith("evt_") and len(event_id) == 30
    parsed = ulid.parse(event_id[4:])
    assert parsed.str == event_id[4:]  # a valid ULID text, as ulid-py writes it
    return parsed.int


def test_a_new_millisecond_draws_the_seeded_bits_and_the_same_one_counts_up() -> None:
    clock = FakeClock(NOW)
    ids = EventIdGenerator(clock, seed=11)
    bits = random.Random(11)
    expected: list[int] = []
    made: list[str] = []
    for step in range(40):
        clock.set(NOW + (step // 4) / 1000)  # four ids a millisecond
        if step % 4 == 0:
            expected.append(((NOW * 1000 + step // 4) << 80) | bits.getrandbits(80))
        else:
            expected.append(expected[-1] + 1)
        made.append(ids.event_id())
    assert [_value(event_id) for event_id in made] == expected
    assert [_value(event_id) >> 80 for event_id in made] == [NOW * 1000 + n // 4 for n in range(40)]


def test_counting_up_carries_past_the_last_two_characters() -> None:
    ids = EventIdGenerator(FakeClock(NOW), seed=3)
    first = ids.event_id()
    # Put the generator just below a carry out of the low 10 bits, then past it.
    state: Any = ids.get_state()
    value = (_value(first) | 1023) - 2
    ids.set_state((state[0], state[1], value, "evt_" + ulid.from_int(value).str))
    made = [ids.event_id() for _ in range(4)]
    assert [_value(event_id) for event_id in made] == [value + n for n in range(1, 5)]


def test_ids_increase_when_the_clock_steps_back_and_at_the_top_of_the_randomness() -> None:
    clock = FakeClock(NOW)
    ids = EventIdGenerator(clock, seed=1)
    made = [ids.event_id() for _ in range(2000)]
    clock.set(NOW - 100)
    made += [ids.event_id() for _ in range(10)]
    state: Any = ids.get_state()
    top = ((NOW * 1000) << 80) | ((1 << 80) - 2)  # the last randomness of a millisecond
    ids.set_state((state[0], NOW * 1000, top, "evt_" + ulid.from_int(top).str))
    made += [ids.event_id() for _ in range(3)]
    assert made == sorted(made) and len(set(made)) == len(made)
    assert _value(made[-1]) >> 80 == NOW * 1000 + 1  # counted into the next millisecond
    clock.set(NOW + 0.001)  # that millisecond now: still counting up, never back
    later = ids.event_id()
    assert later > made[-1]


def test_the_explicit_time_is_used_and_seeded_generators_agree() -> None:
    first, second = EventIdGenerator(seed=5), EventIdGenerator(seed=5)
    times = [NOW + n / 7 for n in range(50)]
    made = [first.event_id(moment) for moment in times]
    assert made == [second.event_id(moment) for moment in times]
    assert [_value(event_id) >> 80 for event_id in made] == [int(t * 1000) for t in times]


@pytest.mark.parametrize("reading", [-0.001, -5, 281_474_976_710.656, 1e15])
def test_a_clock_out_of_range_is_refused(reading: float) -> None:
    ids = EventIdGenerator(FakeClock(NOW), seed=1)
    ids.event_id()
    with pytest.raises(ValueError, match="ids need a Unix time from 0 to"):
        ids.event_id(reading)


def test_snapshots_restore_the_event_ids() -> None:
    service = CustomerService(MemoryStore(), clock=FakeClock(NOW), seed=7)
    service.create(email="a@example.com")
    snapshot = service.snapshot()
    made = [service.create().id for _ in range(3)]
    ids = [event.id for event in service.events.list().data]
    service.restore(snapshot)
    assert [service.create().id for _ in range(3)] == made
    assert [event.id for event in service.events.list().data] == ids


_TEXT = st.sampled_from(["", "a", "Jenny Rosen", "b@example.com"])
_UPDATES = st.fixed_dictionaries(
    {},
    optional={
        "name": _TEXT,
        "email": st.sampled_from(["", "b@example.com", "c@example.com"]),
        "description": _TEXT,
        "phone": st.sampled_from(["", "+1 555"]),
        "balance": st.integers(-2, 2),
        "individual_name": _TEXT,
        "business_name": _TEXT,
        "metadata": st.one_of(
            st.just(""),
            st.dictionaries(st.sampled_from(["plan", "seats", "x"]), _TEXT, max_size=3),
        ),
        "address": st.one_of(
            st.just(""), st.fixed_dictionaries({}, optional={"city": _TEXT, "line1": _TEXT})
        ),
        "preferred_locales": st.lists(st.sampled_from(["en", "fr"]), max_size=2),
        "invoice_settings": st.fixed_dictionaries({}, optional={"footer": _TEXT}),
        "tax_exempt": st.sampled_from(["none", "exempt", ""]),
    },
)


@settings(max_examples=150, deadline=None)
@given(first=_UPDATES, second=_UPDATES)
def test_an_updates_previous_attributes_are_the_whole_records_difference(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    service = CustomerService(MemoryStore(), clock=FakeClock(NOW), seed=1)
    customer = service.create(name="Old", metadata={"plan": "gold"}, address={"city": "Paris"})
    for params in (first, second):
        before = service.store.get(customer.id)
        assert before is not None
        count = len(service.events.list(limit=100).data)
        service.update(customer.id, **params)
        after = service.store.get(customer.id)
        assert after is not None
        expected = previous_attributes(before, after)  # every key compared
        events = service.events.list(limit=100).data
        if not expected:
            assert len(events) == count  # nothing changed: no event
            continue
        got = events[0].data.previous_attributes
        assert got == expected
        assert got is not None
        assert list(got) == list(expected)
        order = list(Customer.model_fields)
        assert list(got) == sorted(got, key=order.index)  # the customer's order
