"""Public constructors and entry points refuse a setting of the wrong kind when called,
with a TypeError or ValueError naming the argument, as ``CustomerService`` refuses a
misconfiguration when built: never a raw error from deep inside (a UnicodeEncodeError
from seeding, "'int' object is not iterable", a worker whose every round fails)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.events.outbox import RetryPolicy
from customer_core.testing import FakeClock, mock_stripe
from customer_core.testing.stripe_client import StripeHTTPClient


def _refused(call: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (
            {"seed": "\ud800"},
            ValueError,
            "seed must be text without lone surrogates, not '\\ud800'.",
        ),
        (
            {"clock": lambda: "1700000000"},
            TypeError,
            "clock must return the time in seconds as a number, but it returned '1700000000'.",
        ),
        (
            {"clock": lambda: None},
            TypeError,
            "clock must return the time in seconds as a number, but it returned None.",
        ),
        (
            {"clock": lambda: math.nan},
            ValueError,
            "clock must return a finite number of seconds, but it returned nan.",
        ),
    ],
)
def test_the_service_refuses_a_seed_or_clock_it_cannot_use(
    arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    _refused(lambda: CustomerService(MemoryStore(), **arguments), error, message)


def test_a_seed_of_any_other_text_is_kept() -> None:
    made = [CustomerService(MemoryStore(), clock=FakeClock(), seed="é\x00").create() for _ in "ab"]
    assert made[0].id == made[1].id


@pytest.mark.parametrize(
    ("types", "message"),
    [
        (123, "types must be an event type name, a list of them or None, not 123."),
        (
            b"customer.created",
            "types must be an event type name, a list of them or None, not b'customer.created'.",
        ),
        ([1], "types must hold event type names (str), not 1."),
        (["customer.created", None], "types must hold event type names (str), not None."),
    ],
)
def test_subscribe_refuses_types_that_are_not_names(types: object, message: str) -> None:
    service = CustomerService(MemoryStore())
    _refused(lambda: service.subscribe(print, types=types), TypeError, message)  # type: ignore[arg-type]
    assert not service._bus.subscribed


def test_subscribe_takes_one_name_a_list_or_any_iterable_of_names() -> None:
    service = CustomerService(MemoryStore(), clock=FakeClock(), seed=1)
    seen: list[str] = []
    service.subscribe(lambda event: seen.append(f"one {event.type}"), types="customer.created")
    service.subscribe(lambda event: seen.append(f"iter {event.type}"), types=iter(["customer.*"]))
    service.create(name="Jenny")
    assert seen == ["one customer.created", "iter customer.created"]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"retry": 5}, TypeError, "retry must be a RetryPolicy or None, not 5."),
        ({"timeout": "5"}, TypeError, "timeout must be a number of seconds, not '5'."),
        ({"timeout": None}, TypeError, "timeout must be a number of seconds, not None."),
        (
            {"timeout": math.nan},
            ValueError,
            "timeout must be a positive, finite number of seconds, not nan.",
        ),
        ({"concurrency": "4"}, TypeError, "concurrency must be a whole number, not '4'."),
        ({"concurrency": 2.5}, TypeError, "concurrency must be a whole number, not 2.5."),
        ({"concurrency": -1}, ValueError, "concurrency must be at least 1, not -1."),
        ({"batch_size": None}, TypeError, "batch_size must be a whole number, not None."),
        (
            {"poll_interval": 0},
            ValueError,
            "poll_interval must be a positive, finite number of seconds, not 0.",
        ),
        ({"linger": -1}, ValueError, "linger must be a finite number of seconds from 0, not -1."),
        ({"lease": "40"}, TypeError, "lease must be a number of seconds, not '40'."),
        (
            {"lease": 5},
            ValueError,
            "DeliveryWorker needs a lease longer than its timeout (10.0), not 5.",
        ),
        ({"retention": "x"}, TypeError, "retention must be a number of seconds, not 'x'."),
        (
            {"retention": -5},
            ValueError,
            "retention must be a positive, finite number of seconds, not -5.",
        ),
        (
            {"cpu_share": "0.5"},
            TypeError,
            "cpu_share must be a share of one core from 0 (excluded) to 1, or None; not '0.5'.",
        ),
        (
            {"cpu_share": 2},
            ValueError,
            "cpu_share must be a share of one core from 0 (excluded) to 1, or None; not 2.",
        ),
        ({"sender_process": "yes"}, TypeError, "sender_process must be True or False, not 'yes'."),
        (
            {"busy_rate": "3"},
            TypeError,
            "busy_rate must be a number of deliveries a second above 0, or None; not '3'.",
        ),
        (
            {"busy_rate": -3},
            ValueError,
            "busy_rate must be a number of deliveries a second above 0, or None; not -3.",
        ),
    ],
)
def test_start_delivery_refuses_options_of_the_wrong_kind(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    service = CustomerService(MemoryStore())
    _refused(lambda: service.webhooks.start_delivery(**options), error, message)


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"first_delay": "60"}, TypeError, "first_delay must be a number of seconds, not '60'."),
        ({"max_delay": -1}, ValueError, "max_delay must be a number of seconds from 0, not -1."),
        ({"max_age": math.nan}, ValueError, "max_age must be a number of seconds from 0, not nan."),
        ({"factor": "2"}, TypeError, "factor must be a number, not '2'."),
        ({"factor": 0.5}, ValueError, "factor must be a finite number from 1, not 0.5."),
        ({"max_attempts": 2.0}, TypeError, "max_attempts must be a whole number, not 2.0."),
        ({"max_attempts": 0}, ValueError, "max_attempts must be at least 1, not 0."),
        ({"jitter": None}, TypeError, "jitter must be a number, not None."),
        ({"jitter": 1}, ValueError, "jitter must be a fraction from 0 to below 1, not 1."),
    ],
)
def test_a_retry_policy_of_the_wrong_kind_is_refused(
    fields: dict[str, Any], error: type[Exception], message: str
) -> None:
    _refused(lambda: RetryPolicy(**fields), error, message)


def test_a_retry_policy_may_still_never_give_up_by_age() -> None:
    assert RetryPolicy(max_age=math.inf, max_delay=0).max_age == math.inf


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"service": "x"}, TypeError, "service must be a CustomerService or None, not 'x'."),
        ({"service": True}, TypeError, "service must be a CustomerService or None, not True."),
        (
            {"api_keys": "sk_test_1"},
            TypeError,
            "api_keys must be a list of API keys (str) or None, not 'sk_test_1'.",
        ),
        ({"api_keys": 5}, TypeError, "api_keys must be a list of API keys (str) or None, not 5."),
        ({"api_keys": [None]}, TypeError, "api_keys must hold API keys (str), not None."),
        (
            {"api_keys": ["sk_test_\ud800"]},
            ValueError,
            "api_keys must be text without lone surrogates, not 'sk_test_\\ud800'.",
        ),
    ],
)
def test_mock_stripe_refuses_a_service_or_keys_of_the_wrong_kind(
    arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    _refused(lambda: mock_stripe(**arguments), error, message)


def test_the_stripe_http_client_refuses_them_too() -> None:
    service = CustomerService(MemoryStore())
    _refused(
        lambda: StripeHTTPClient("x"),  # type: ignore[arg-type]
        TypeError,
        "service must be a CustomerService, not 'x'.",
    )
    _refused(
        lambda: StripeHTTPClient(service, api_keys=[b"sk_test_1"]),  # type: ignore[list-item]
        TypeError,
        "api_keys must hold API keys (str), not b'sk_test_1'.",
    )


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: FakeClock("1700000000"),
            TypeError,
            "now must be a number of seconds, not '1700000000'.",
        ),
        (
            lambda: FakeClock().set(math.inf),
            ValueError,
            "now must be a finite number of seconds, not inf.",
        ),
        (
            lambda: FakeClock().advance(None),
            TypeError,
            "seconds must be a number of seconds, not None.",
        ),
    ],
)
def test_the_fake_clock_refuses_a_time_that_is_not_a_number(
    call: Callable[[], object], error: type[Exception], message: str
) -> None:
    _refused(call, error, message)
