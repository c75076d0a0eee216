"""List: order, cursors, has_more, filters and errors."""

from __future__ import annotations

import pytest

from customer_core import CustomerService
from customer_core.testing import FakeClock

from .test_create import error_of


@pytest.fixture
def customers(service: CustomerService, clock: FakeClock) -> list[str]:
    """Seven customers, oldest first: two per second for three seconds, then one."""
    made = []
    for n in range(7):
        made.append(
            service.create(email="even@example.com" if n % 2 == 0 else f"c{n}@example.com").id
        )
        if n % 2 == 1:
            clock.advance(1)
    return made


def ids(page: object) -> list[str]:
    return [customer.id for customer in page.data]  # type: ignore[attr-defined]


def test_list_is_newest_first_with_ties_in_id_order(
    service: CustomerService, customers: list[str]
) -> None:
    page = service.list()
    assert ids(page) == customers[::-1]
    assert page.has_more is False
    created = [c.created for c in page.data]
    assert created == sorted(created, reverse=True)


def test_default_limit_is_ten(service: CustomerService) -> None:
    for _ in range(11):
        service.create()
    page = service.list()
    assert len(page.data) == 10 and page.has_more is True


def test_starting_after_pages_towards_older(service: CustomerService, customers: list[str]) -> None:
    newest_first = customers[::-1]
    first = service.list(limit=3)
    assert ids(first) == newest_first[:3] and first.has_more
    second = service.list(limit=3, starting_after=newest_first[2])
    assert ids(second) == newest_first[3:6] and second.has_more
    third = service.list(limit=3, starting_after=newest_first[5])
    assert ids(third) == newest_first[6:] and not third.has_more


def test_ending_before_pages_towards_newer_and_still_shows_newest_first(
    service: CustomerService, customers: list[str]
) -> None:
    newest_first = customers[::-1]
    page = service.list(limit=2, ending_before=newest_first[4])
    assert ids(page) == newest_first[2:4] and page.has_more is True
    page = service.list(limit=5, ending_before=newest_first[2])
    assert ids(page) == newest_first[:2] and page.has_more is False


def test_cursors_are_exclusive_and_work_from_deleted_customers(
    service: CustomerService, customers: list[str]
) -> None:
    newest_first = customers[::-1]
    service.delete(newest_first[3])
    assert ids(service.list(starting_after=newest_first[3])) == newest_first[4:]
    assert ids(service.list(ending_before=newest_first[3])) == newest_first[:3]


def test_email_filter_is_exact_and_case_sensitive(
    service: CustomerService, customers: list[str]
) -> None:
    evens = [customers[n] for n in (6, 4, 2, 0)]
    assert ids(service.list(email="even@example.com")) == evens
    assert ids(service.list(email="EVEN@example.com")) == []
    page = service.list(email="even@example.com", limit=2, starting_after=evens[0])
    assert ids(page) == evens[1:3] and page.has_more


def test_created_filters(service: CustomerService, customers: list[str], clock: FakeClock) -> None:
    start = clock() - 3
    assert ids(service.list(created=start)) == customers[1::-1]
    assert ids(service.list(created=str(start + 1))) == customers[3:1:-1]
    assert ids(service.list(created={"gte": start + 1, "lt": start + 3})) == customers[5:1:-1]
    assert ids(service.list(created={"gt": start + 2})) == [customers[6]]
    assert ids(service.list(created={"lte": start})) == customers[1::-1]
    assert ids(service.list(created={"gt": start, "lte": start + 1}, email="even@example.com")) == [
        customers[2]
    ]


def test_limit_out_of_range_is_refused(service: CustomerService) -> None:
    error = error_of(service.list, limit=0)
    assert (error.param, error.code, error.message) == (
        "limit",
        "parameter_invalid_integer",
        "This value must be greater than or equal to 1.",
    )
    assert (
        error_of(service.list, limit=101).message == "This value must be less than or equal to 100."
    )
    assert error_of(service.list, limit="ten").message == "Invalid integer: ten"
    assert len(service.list(limit="100").data) == 0


def test_unknown_cursor_is_a_400_naming_the_param(
    service: CustomerService, customers: list[str]
) -> None:
    for name in ("starting_after", "ending_before"):
        error = error_of(service.list, **{name: "cus_nope"})
        assert (error.http_status, error.code, error.param, error.message) == (
            400,
            "resource_missing",
            name,
            "No such customer: 'cus_nope'",
        )


def test_both_cursors_are_refused_after_checking_they_exist(
    service: CustomerService, customers: list[str]
) -> None:
    error = error_of(service.list, starting_after=customers[0], ending_before=customers[1])
    assert (
        error.message
        == "Received both starting_after and ending_before parameters. Please pass in only one."
    )
    assert (error.code, error.param) == (None, None)
    assert (
        error_of(service.list, starting_after=customers[0], ending_before="cus_nope").param
        == "ending_before"
    )


def test_list_params_are_validated(service: CustomerService) -> None:
    assert error_of(service.list, bogus=1).message == "Received unknown parameter: bogus"
    assert error_of(service.list, created={"after": 1}).param == "created[after]"
    assert error_of(service.list, created={"gt": "x"}).param == "created[gt]"
    assert error_of(service.list, created={"gt": 10**30}).message == f"Invalid integer: {10**30}"
    assert error_of(service.list, created=-(10**30)).param == "created"
    assert (
        error_of(service.list, expand=["tax"]).message == "This property cannot be expanded (tax)."
    )
    assert error_of(service.list, test_clock="clock_1").message == "No such test clock: 'clock_1'"
    assert error_of(service.list, starting_after="").code == "parameter_invalid_empty"


def test_list_expand_uses_the_data_prefix(service: CustomerService, customers: list[str]) -> None:
    page = service.list(limit=1, expand=["data.tax"])
    assert page.to_dict()["data"][0]["tax"]["provider"] == "stripe"
    assert page.data[0].tax is not None
