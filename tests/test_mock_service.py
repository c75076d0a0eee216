"""``StripeMock.service`` is typed ``CustomerService``: the given service, else the fresh
one of the last start (kept after ``stop()``); before a start with none given it raises a
RuntimeError that says what to do, instead of being None."""

from __future__ import annotations

import typing

import pytest
import stripe

from customer_core import CustomerService, MemoryStore
from customer_core.testing import StripeMock, mock_stripe


def test_the_service_is_typed_as_a_customer_service() -> None:
    assert typing.get_type_hints(StripeMock.service.fget)["return"] is CustomerService  # type: ignore[attr-defined]


def test_before_its_first_start_a_mock_without_a_service_says_it_has_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stripe, "api_key", "sk_test_typed")
    mock = mock_stripe()
    with pytest.raises(RuntimeError) as caught:
        mock.service  # noqa: B018 (the read is the test)
    assert str(caught.value) == (
        "This mock_stripe is not started, so it has no service yet: start it first "
        "(with mock_stripe() as service: ...), or give it one (mock_stripe(service))."
    )
    with mock as service:
        assert mock.service is service
        created = stripe.Customer.create(email="typed@example.com")
    assert mock.service is service  # kept after stop, to look at what the test did
    assert [c.id for c in mock.service.list().data] == [created.id]
    with mock as again:
        assert again is not service and mock.service is again  # a fresh one per start


def test_a_given_service_is_there_before_the_start() -> None:
    service = CustomerService(MemoryStore())
    mock = mock_stripe(service)
    assert mock.service is service and not mock.active
    with mock as started:
        assert started is service and mock.service is service
