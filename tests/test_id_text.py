"""Id texts made the fast way are the ones of the plain formulas: request ids are
``randbytes(14)`` of their own seeded stream, and a ULID that counts up past its 80 random
bits carries into the milliseconds, as the 128-bit value does."""

from __future__ import annotations

import random

import ulid

from customer_core.ids import _REQUEST_ID_LETTERS, IdGenerator
from customer_core.testing import FakeClock


def test_request_ids_are_randbytes_of_their_stream() -> None:
    ids = IdGenerator(FakeClock(1_700_000_000), seed=42)
    stream = random.Random("request ids 42")
    for _ in range(50):
        expected = stream.randbytes(14).translate(_REQUEST_ID_LETTERS).decode("ascii")
        assert ids.request_id() == "req_" + expected


def test_counting_up_past_the_random_bits_carries_into_the_milliseconds() -> None:
    clock = FakeClock(1_700_000_000)
    ids = IdGenerator(clock, seed=3)
    millis = 1_700_000_000_000
    ids._last = (millis << 80) | ((1 << 80) - 1)  # the last id of this millisecond
    made = ids.customer_id()
    assert made == "cus_" + ulid.from_int((millis + 1) << 80).str
    assert ids.customer_id() == "cus_" + ulid.from_int(((millis + 1) << 80) + 1).str
