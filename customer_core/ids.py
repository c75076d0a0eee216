"""Customer and tax ids (``cus_``/``txi_`` + ULID) and invoice prefixes, with an injectable clock and seed.

Ids are ULIDs: 48 bits of milliseconds then 80 random bits, in Crockford base32, so
they sort in creation order. Within one generator they are strictly increasing, even
when the clock stands still or steps back: the random part is then incremented, as
the ULID spec's monotonic mode says.

The text is this module's own encoder (``encode_ulid``, faster than ulid-py's). The tests
compare it with ulid-py's encoding of the same 128-bit values (every bit alone, the
extremes, random values) and check that an id holds the clock's milliseconds and the
seeded random bits; a round trip through ulid-py alone would pass any valid ULID.
"""

from __future__ import annotations

import random
import re
import string
import threading
import time
from collections.abc import Callable
from typing import Any

import ulid

__all__ = [
    "CUSTOMER_ID_PATTERN",
    "LATEST_TIME",
    "NEWEST_DRAWN",
    "TAX_ID_PATTERN",
    "Clock",
    "EventIdGenerator",
    "IdGenerator",
    "encode_ulid",
    "go_on_after",
    "system_clock",
]

Clock = Callable[[], float]
"""A zero-argument callable returning the current Unix time in seconds."""

CUSTOMER_ID_PATTERN = re.compile(r"cus_[0-9A-Za-z]{1,251}")
"""What a customer id may be when it comes from elsewhere (an import): ``cus_`` then
letters and digits, like ours (26 characters) and Stripe's (14), at most 255 in all."""
TAX_ID_PATTERN = re.compile(r"txi_[0-9A-Za-z]{1,251}")
"""The same for a TaxId's id."""

_RANDOM_BITS = 80
_RANDOM_MAX = (1 << _RANDOM_BITS) - 1
_HALF_MAX = (1 << 40) - 1
_MILLIS_MAX = (1 << 48) - 1  # a ULID holds 48 bits of milliseconds
LATEST_TIME = _MILLIS_MAX // 1000
"""The last Unix second an id can hold (in the year 10889); the clock must read 0 to this."""
_PREFIX_MAX = (1 << 32) - 1
_REQUEST_ID_ALPHABET = string.ascii_letters + string.digits
# A random byte's letter: byte % 62 (the first 8 letters come up 5 times in 256, the rest 4).
_REQUEST_ID_LETTERS = (_REQUEST_ID_ALPHABET * 5)[:256].encode("ascii")

# Every pair of Crockford base32 characters, indexed by the 10 bits they encode: the 80
# random bits become 16 characters in 8 lookups and the 48 bits of time 10 in 5, a third
# of the cost of ulid-py's per-character encoder (tests check both give the same text).
_PAIRS = tuple(a + b for a in ulid.base32.ENCODING for b in ulid.base32.ENCODING)


def _encode_randomness(bits: int) -> str:
    """The 16 characters of a ULID's 80 random bits, from its two 40-bit halves (smaller
    ints than the 80-bit value, cheaper to shift and mask)."""
    pairs = _PAIRS
    high, low = bits >> 40, bits & _HALF_MAX
    return "".join(
        (
            pairs[high >> 30],
            pairs[(high >> 20) & 1023],
            pairs[(high >> 10) & 1023],
            pairs[high & 1023],
            pairs[low >> 30],
            pairs[(low >> 20) & 1023],
            pairs[(low >> 10) & 1023],
            pairs[low & 1023],
        )
    )


def _encode_timestamp(millis: int) -> str:
    """The 10 characters of a ULID's 48 bits of milliseconds (its top 2 of 50 bits are 0)."""
    pairs = _PAIRS
    return (
        pairs[millis >> 40]
        + pairs[(millis >> 30) & 1023]
        + pairs[(millis >> 20) & 1023]
        + pairs[(millis >> 10) & 1023]
        + pairs[millis & 1023]
    )


def encode_ulid(value: int) -> str:
    """The 26-character Crockford base32 text of a 128-bit ULID value.

    >>> encode_ulid((1 << 80) | 1)
    '00000000010000000000000001'
    """
    return _encode_timestamp(value >> _RANDOM_BITS) + _encode_randomness(value & _RANDOM_MAX)


def system_clock() -> float:
    """Return the wall-clock Unix time in seconds."""
    return time.time()


class IdGenerator:
    """Make customer ids and invoice prefixes; reproducible for a given clock and seed.

    >>> ids = IdGenerator(clock=lambda: 1_700_000_000, seed=7)
    >>> first, second = ids.customer_id(), ids.customer_id()
    >>> first.startswith("cus_") and len(first) == 30 and first < second
    True
    >>> len(ids.invoice_prefix())
    8
    """

    def __init__(self, clock: Clock = system_clock, seed: int | str | None = None) -> None:
        self._clock = clock
        # Stripe ids are not secrets, so a seeded Mersenne Twister is enough and is
        # what makes two services with the same seed produce identical customers.
        self._random = random.Random(seed)
        # Request ids draw from a stream of their own: answering more or fewer requests
        # (a retrieve, a failed call) changes no customer id or prefix.
        self._request_random = random.Random(None if seed is None else f"request ids {seed}")
        self._lock = threading.Lock()
        self._last = -1
        self._text = ""  # the last ULID's text
        self._prefix_millis = -1
        self._prefix = ""
        self._next_prefix = _PREFIX_MAX + 1  # no run yet: the first prefix starts one

    def get_state(self) -> object:
        """Return where the generator stands (an opaque value for ``set_state``)."""
        with self._lock:
            return (
                self._random.getstate(),
                self._request_random.getstate(),
                self._last,
                self._text,
                self._prefix_millis,
                self._prefix,
                self._next_prefix,
            )

    def set_state(self, state: object) -> None:
        """Put the generator back where ``get_state`` saw it: it makes the same ids again."""
        with self._lock:
            saved: tuple[Any, Any, int, str, int, str, int] = state  # type: ignore[assignment]
            self._last, self._text, self._prefix_millis, self._prefix, self._next_prefix = saved[2:]
            self._random.setstate(saved[0])
            self._request_random.setstate(saved[1])

    def start_after(self, newest: str) -> None:
        """Go on after ``newest``, the newest id an earlier run left in the store: see
        ``_gap_after``. An id that is not one of ours (an imported Stripe id) changes nothing."""
        with self._lock:
            start = _gap_after(newest, self._random)
            if start > self._last:
                self._last = start
                self._text = encode_ulid(start)

    def customer_id(self) -> str:
        """Return a new ``cus_`` id, greater than every id this generator made before."""
        return "cus_" + self._ulid()

    def tax_id(self) -> str:
        """Return a new ``txi_`` id (a TaxId's), from the same increasing sequence."""
        return "txi_" + self._ulid()

    def event_id(self) -> str:
        """Return a new ``evt_`` id (an Event's), from the same increasing sequence."""
        return "evt_" + self._ulid()

    def webhook_endpoint_id(self) -> str:
        """Return a new ``we_`` id (a WebhookEndpoint's), from the same increasing sequence."""
        return "we_" + self._ulid()

    def delivery_attempt_id(self) -> str:
        """Return a new ``wda_`` id (a webhook delivery attempt's), from the same sequence."""
        return "wda_" + self._ulid()

    def _ulid(self) -> str:
        millis = int(self._clock() * 1000)
        if not 0 <= millis <= _MILLIS_MAX:
            raise _out_of_range(millis)
        with self._lock:
            randomness = self._random.getrandbits(_RANDOM_BITS)
            value = (millis << _RANDOM_BITS) | randomness
            if value <= self._last:
                # Same millisecond (or a clock that went back): keep order by counting up.
                self._last = value = self._last + 1
                self._text = text = _counted_up(self._text, value)
                return text
            self._last = value
            # The first 10 characters encode the timestamp alone: encode them once per ms.
            if millis != self._prefix_millis:
                self._prefix_millis = millis
                self._prefix = _encode_timestamp(millis)
            self._text = text = self._prefix + _encode_randomness(randomness)
            return text

    def request_id(self) -> str:
        """Return a ``req_`` id for one API request, like Stripe's ``req_8u9LDuTHkUFpj8``."""
        with self._lock:
            # randbytes(14), without its Python frame: the same bytes.
            drawn = self._request_random.getrandbits(112).to_bytes(14, "little")
        return "req_" + drawn.translate(_REQUEST_ID_LETTERS).decode("ascii")

    def invoice_prefix(self, *, jump: bool = False) -> str:
        """Return a prefix of 8 uppercase hex characters, like Stripe's ``0759376C``.

        Prefixes run upward from a random start in random steps of 1 to 4096, so that a
        store's unique prefix index gets its new keys close together: a random key per
        customer dirties one index page per customer, which made batched SQLite creates
        1.8 times slower at 100k customers. ``jump=True`` starts a new run at a random
        point: the service asks for it when a prefix was taken, which means another
        writer's run reached this one.
        """
        with self._lock:
            value = self._next_prefix
            if jump or value > _PREFIX_MAX:
                value = self._random.getrandbits(32)
            self._next_prefix = value + 1 + self._random.getrandbits(12)
            return f"{value:08X}"


class EventIdGenerator:
    """Make ``evt_`` ids: ULIDs in the ULID spec's monotonic mode, reproducible for a
    given clock and seed.

    A new millisecond draws 80 random bits; another id in the same millisecond (or after
    the clock stepped back) is the last one plus one, as the spec's monotonic mode says.
    Its text is then the last text with its final two characters replaced (unless the
    count carries past them), so most events pay neither a random draw nor an encoding:
    an event is recorded with every write, and ``IdGenerator``'s fresh bits for every id
    cost it about 16,000 instructions (benchmarks/RESULTS.md, "fifth pass"). The first
    eight characters of the time change once in 1,024 milliseconds: a new millisecond
    encodes its last two and the randomness only (seventh pass). Ids still sort by time,
    strictly increase within the generator, and hold the clock's milliseconds.

    >>> ids = EventIdGenerator(clock=lambda: 1_700_000_000, seed=7)
    >>> first, second = ids.event_id(), ids.event_id()
    >>> first.startswith("evt_") and len(first) == 30 and first < second
    True
    >>> first[:-2] == second[:-2]  # the same millisecond: counted up
    True
    """

    def __init__(self, clock: Clock = system_clock, seed: int | str | None = None) -> None:
        self._clock = clock
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._millis = -1  # the millisecond the last id holds
        # The last id: its 128 bits but the low 10 (``_base``) and those (``_low``), its
        # text but the last two characters (``_head``, which ``_PAIRS[_low]`` ends).
        self._base = -1024
        self._low = 1023
        self._head = ""
        # ``evt_`` and the first 8 characters of the time, for the 1,024 milliseconds of
        # ``_time_block`` (milliseconds >> 10).
        self._time_block = -1
        self._time_head = ""

    def get_state(self) -> object:
        """Return where the generator stands (an opaque value for ``set_state``)."""
        with self._lock:
            text = self._head + _PAIRS[self._low] if self._head else ""
            return (self._random.getstate(), self._millis, self._base | self._low, text)

    def set_state(self, state: object) -> None:
        """Put the generator back where ``get_state`` saw it: it makes the same ids again."""
        with self._lock:
            saved: tuple[Any, int, int, str] = state  # type: ignore[assignment]
            self._random.setstate(saved[0])
            self._millis = saved[1]
            self._keep(saved[2], saved[3])

    def _keep(self, value: int, text: str) -> None:
        """Make ``value`` (``text``) the last id."""
        self._base = value & ~1023
        self._low = value & 1023
        self._head = text[:-2]

    def start_after(self, newest: str) -> None:
        """Go on after ``newest``, the newest event id in the store: see ``_gap_after``."""
        with self._lock:
            start = _gap_after(newest, self._random)
            if start > self._base | self._low:
                self._millis = start >> _RANDOM_BITS
                self._keep(start, "evt_" + encode_ulid(start))

    def event_id(self, now: float | None = None) -> str:
        """Return a new ``evt_`` id for the time ``now`` (Unix seconds; default: the clock),
        greater than every id this generator made before."""
        millis = int((self._clock() if now is None else now) * 1000)
        with self._lock:
            if millis <= self._millis:
                if millis < 0:
                    raise _out_of_range(millis)
                low = self._low + 1
                if low < 1024:  # counted up: only the last two characters change
                    self._low = low
                    return self._head + _PAIRS[low]
                value = self._base + 1024  # the count carries past them
                text = "evt_" + encode_ulid(value)
                self._millis = value >> _RANDOM_BITS  # a carry can reach the milliseconds
            else:
                if millis > _MILLIS_MAX:
                    raise _out_of_range(millis)
                randomness = self._random.getrandbits(_RANDOM_BITS)
                value = (millis << _RANDOM_BITS) | randomness
                if millis >> 10 != self._time_block:
                    self._time_block = millis >> 10
                    self._time_head = "evt_" + _encode_timestamp(millis)[:8]
                text = self._time_head + _PAIRS[millis & 1023] + _encode_randomness(randomness)
                self._millis = millis
                # Its parts, for a store that keys events by them (NEWEST_DRAWN).
                NEWEST_DRAWN[0] = (text, millis, randomness)
            self._keep(value, text)
            return text


NEWEST_DRAWN: list[tuple[str, int, int]] = [("", 0, 0)]
"""The last ``evt_`` id an ``EventIdGenerator`` made with fresh random bits (the first of
its millisecond), its milliseconds and its 80 random bits; one entry, replaced whole (safe
between threads). A store that keys events by the id's bits (``sqlite_events.natural_key``)
takes them here when handed that very string, instead of decoding its text again."""

_MAX_TAKEN_STEPS = 64
"""Ids a restarted generator steps over, one gap each (``go_on_after``): one is enough
unless the store holds several runs' ids in the same place, which nothing makes."""


def go_on_after(
    generator: IdGenerator | EventIdGenerator,
    newest: str | None,
    make: Callable[[], str],
    taken: Callable[[str], bool],
) -> None:
    """Make a seeded generator's ids after what a store holds: after ``newest``, the
    store's newest id by created time, then over every id it would make next that
    ``taken`` finds stored. The newest by created time is not always the greatest: a run
    whose frozen clock stood behind the stored records made its ids above theirs, with
    older created times (trial 4, 1). Peeking at the next id (``make``, then the state put
    back) changes nothing when it is free, so the same seed on the same data still gives
    the same ids."""
    if newest is not None:
        generator.start_after(newest)
    for _ in range(_MAX_TAKEN_STEPS):
        state = generator.get_state()
        candidate = make()
        generator.set_state(state)
        if not taken(candidate):
            return
        generator.start_after(candidate)


def _gap_after(newest: str, draw: random.Random) -> int:
    """Where a generator goes on after ``newest`` (``cus_...``): its ULID value plus a
    random gap of 1 to 2**64, or -1 when it is not a ULID.

    A seeded service restarted on its store (a frozen clock, the same seed) would make
    its last run's ids again, all taken. Going on above the newest id keeps new ids after
    the old ones, and the gap also clears the ids of other kinds (``txi_``) that run
    counted up close above it. The gap is drawn from the generator's seeded stream: the
    same seed on the same data still gives the same ids."""
    try:
        value = ulid.from_str(newest.partition("_")[2]).int
    except ValueError:
        return -1
    return value + 1 + draw.getrandbits(64)


def _counted_up(text: str, value: int) -> str:
    """The text of ``value``, the ULID one above the one ``text`` ends with (after any
    ``evt_``-style prefix): only its last two characters (10 bits) change, unless the
    count carries past them (once in 1,024 ids, or on a frozen clock's 1,024th id)."""
    low = value & 1023
    if low:
        return text[:-2] + _PAIRS[low]
    return text[:-26] + encode_ulid(value)


def _out_of_range(millis: int) -> ValueError:
    msg = f"The clock reads {millis / 1000}: ids need a Unix time from 0 to {LATEST_TIME}."
    return ValueError(msg)
