"""A clock must read a time ids can hold: the serve option says so, the service names it."""

from __future__ import annotations

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.cli import main
from customer_core.ids import LATEST_TIME
from customer_core.testing import FakeClock


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "-1 is not a Unix time from 0 to 281474976710"),
        ("281474976711", "281474976711 is not a Unix time from 0 to 281474976710"),
        ("99999999999999999999", "99999999999999999999 is not a Unix time from 0 to 281474976710"),
        ("soon", "invalid int value: 'soon'"),
    ],
)
def test_serve_refuses_a_frozen_time_ids_cannot_hold(
    capsys: pytest.CaptureFixture[str], value: str, reason: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--memory", "--api-key", "sk_test_x", "--frozen-time", value])
    assert exit_.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error == f"customer-core serve: error: argument --frozen-time: {reason}"


def test_the_latest_time_is_the_last_second_a_ulid_holds() -> None:
    assert LATEST_TIME == ((1 << 48) - 1) // 1000 == 281_474_976_710
    service = CustomerService(MemoryStore(), clock=FakeClock(LATEST_TIME), seed=1)
    first, second = service.create(), service.create()
    assert first.created == second.created == LATEST_TIME
    assert first.id < second.id


@pytest.mark.parametrize("now", [-1, LATEST_TIME + 1])
def test_a_clock_outside_that_range_is_named_not_an_overflow(now: int) -> None:
    service = CustomerService(MemoryStore(), clock=FakeClock(now), seed=1)
    with pytest.raises(
        ValueError, match=r"^The clock reads .*: ids need a Unix time from 0 to 281474976710\.$"
    ):
        service.create(email="jenny@example.com")
    assert service.list().data == []
