"""Customer ids and invoice prefixes."""

from __future__ import annotations

import random
import re

import pytest
import ulid

from customer_core import Customer, CustomerService, MemoryStore
from customer_core.ids import IdGenerator, encode_ulid
from customer_core.testing import FakeClock

from .test_create import error_of


def test_ids_are_cus_plus_a_ulid_of_the_clock_time(
    service: CustomerService, clock: FakeClock
) -> None:
    customer = service.create()
    assert re.fullmatch(r"cus_[0-9A-HJKMNP-TV-Z]{26}", customer.id)
    parsed = ulid.parse(customer.id[4:])
    assert parsed.timestamp().int == int(clock() * 1000)
    assert parsed.str == customer.id[4:]


def test_ids_strictly_increase_within_one_millisecond_and_when_the_clock_goes_back() -> None:
    clock = FakeClock(1_700_000_000)
    ids = IdGenerator(clock, seed=1)
    made = [ids.customer_id() for _ in range(1000)]
    clock.set(1_600_000_000)
    made += [ids.customer_id() for _ in range(10)]
    assert made == sorted(made) and len(set(made)) == len(made)


ULID_VALUES = [
    0,
    (1 << 128) - 1,
    (1 << 80) - 1,
    ((1 << 48) - 1) << 80,
    *(1 << bit for bit in range(128)),
    *(((1 << 128) - 1) ^ (1 << bit) for bit in range(0, 128, 7)),
    int("a5" * 16, 16),
    int("5a" * 16, 16),
    *(random.Random(5).getrandbits(128) for _ in range(300)),
]


def test_the_ulid_encoder_matches_ulid_py_on_the_same_128_bit_values() -> None:
    for value in ULID_VALUES:
        assert encode_ulid(value) == ulid.from_int(value).str, hex(value)


def test_ids_are_ulid_py_texts_of_the_clock_millis_and_the_seeded_bits() -> None:
    clock = FakeClock(1_700_000_000)
    ids = IdGenerator(clock, seed=11)
    bits = random.Random(11)
    last = -1
    for step in range(300):
        clock.set(1_700_000_000 + step // 3)  # three ids a second: the later two may count up
        value = (int(clock() * 1000) << 80) | bits.getrandbits(80)
        value = value if value > last else last + 1  # the ULID spec's monotonic mode
        last = value
        assert ids.customer_id() == "cus_" + ulid.from_int(value).str, step


def test_generated_invoice_prefixes_are_eight_uppercase_hex_characters(
    service: CustomerService,
) -> None:
    prefixes = {service.create().invoice_prefix for _ in range(50)}
    assert len(prefixes) == 50
    assert all(re.fullmatch(r"[0-9A-F]{8}", p or "") for p in prefixes)


@pytest.mark.parametrize("prefix", ["A", "AB12", "ABCDEFGHIJKL", "0759376C"])
def test_user_set_prefixes_of_one_to_twelve_uppercase_letters_or_digits(
    service: CustomerService, prefix: str
) -> None:
    assert service.create(invoice_prefix=prefix).invoice_prefix == prefix


def test_prefix_conflicts_include_deleted_and_former_prefixes(service: CustomerService) -> None:
    first = service.create(invoice_prefix="ACME")
    error = error_of(service.create, invoice_prefix="ACME")
    assert (error.param, error.http_status, error.type) == (
        "invoice_prefix",
        400,
        "invalid_request_error",
    )
    assert error.message == (
        "Invoice prefix ACME is already in use. Invoice prefixes must be unique across all "
        "customers, including deleted ones."
    )
    service.update(first.id, invoice_prefix="ACME2")
    assert error_of(service.create, invoice_prefix="ACME").param == "invoice_prefix"
    service.delete(first.id)
    assert error_of(service.create, invoice_prefix="ACME2").param == "invoice_prefix"
    other = service.create(invoice_prefix="OTHER")
    assert error_of(service.update, other.id, invoice_prefix="ACME2").param == "invoice_prefix"
    assert service.retrieve(other.id).invoice_prefix == "OTHER"  # type: ignore[union-attr]


def test_a_customer_may_take_back_its_own_former_prefix(service: CustomerService) -> None:
    customer = service.create(invoice_prefix="MINE")
    service.update(customer.id, invoice_prefix="NEW")
    assert service.update(customer.id, invoice_prefix="MINE").invoice_prefix == "MINE"


def test_generated_prefix_skips_one_already_taken() -> None:
    clock = FakeClock()
    taken = IdGenerator(clock, seed=5).invoice_prefix()
    service = CustomerService(MemoryStore(), clock=clock, seed=5)
    store_first = CustomerService(service.store, clock=clock, seed=99).create(invoice_prefix=taken)
    customer = service.create()
    assert customer.invoice_prefix != taken
    assert store_first.invoice_prefix == taken


def test_generated_prefixes_run_upward_in_small_steps_and_jump_on_request() -> None:
    ids = IdGenerator(FakeClock(), seed=3)
    run = [int(ids.invoice_prefix(), 16) for _ in range(500)]
    steps = [later - earlier for earlier, later in zip(run, run[1:], strict=False)]
    # Upward in steps of 1..4096: new keys land next to each other in a prefix index.
    assert min(steps) >= 1 and max(steps) <= 4096
    jumped = int(ids.invoice_prefix(jump=True), 16)
    assert not run[0] <= jumped <= run[-1] + 4096  # a fresh random start (seed 3: far away)
    assert 1 <= int(ids.invoice_prefix(), 16) - jumped <= 4096


def test_a_prefix_run_that_reaches_ffffffff_starts_again_below() -> None:
    ids = IdGenerator(FakeClock(), seed=3)
    ids._next_prefix = 0xFFFFFFFF
    assert ids.invoice_prefix() == "FFFFFFFF"
    assert re.fullmatch(r"[0-9A-F]{8}", ids.invoice_prefix())


def test_a_run_that_meets_taken_prefixes_jumps_past_them() -> None:
    clock = FakeClock()
    run = [
        customer.invoice_prefix
        for customer in _created(CustomerService(MemoryStore(), clock=clock, seed=11), 10)
    ]
    store = MemoryStore()
    # Another writer already holds the prefixes this run would take.
    other = CustomerService(store, clock=clock, seed=99)
    for prefix in run:
        other.create(invoice_prefix=prefix)
    made = [
        customer.invoice_prefix
        for customer in _created(CustomerService(store, clock=clock, seed=11), 10)
    ]
    assert not set(run) & set(made) and len(set(made)) == 10
    # It jumped to a new run instead of walking through the other writer's prefixes.
    assert int(made[0], 16) not in range(int(run[0], 16), int(run[-1], 16) + 4097)


def _created(service: CustomerService, count: int) -> list[Customer]:
    return [service.create() for _ in range(count)]
