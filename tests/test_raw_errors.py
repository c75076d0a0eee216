"""Caller input that used to end in a raw exception (issue 12, point 2), on every store:
``created`` bounds and page tokens at the 64-bit edges, array indexes in other digits, and
params an idempotency fingerprint could not sort."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from customer_core import CustomerService, InvalidRequestError
from customer_core.cli import main
from customer_core.http.forms import decode
from customer_core.pagination import page_token
from customer_core.testing import FakeClock

from . import test_http
from .test_http import RunningServer

server_service = test_http.server_service  # one server for this module's HTTP tests

MAX, MIN = 2**63 - 1, -(2**63)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def two(service: CustomerService, clock: FakeClock) -> list[str]:
    """Two customers, newest first."""
    first = service.create(email="amy@example.com").id
    clock.advance(1)
    return [service.create(email="amy@example.com").id, first]


@pytest.mark.parametrize(
    ("created", "everyone"),
    [
        ({"lte": MAX}, True),
        ({"lte": str(MAX)}, True),
        ({"lt": MAX}, True),
        ({"gt": MAX}, False),
        ({"gte": MAX}, False),
        (MAX, False),
        ({"gte": MIN}, True),
        ({"gt": MIN}, True),
        ({"lt": MIN}, False),
        ({"lte": MIN}, False),
        (MIN, False),
        ({"gte": MIN, "lte": MAX}, True),
        ({"gt": MAX, "lt": MIN}, False),
    ],
)
def test_created_filters_at_the_int64_edges(
    service: CustomerService, two: list[str], created: object, everyone: bool
) -> None:
    page = service.list(created=created)
    assert [customer.id for customer in page.data] == (two if everyone else [])
    assert page.has_more is False


@pytest.mark.parametrize("bound", ["gt", "gte", "lt", "lte"])
@pytest.mark.parametrize("value", [MAX + 1, MIN - 1, str(MAX + 1)])
def test_created_filters_past_int64_are_stripes_invalid_integer(
    service: CustomerService, bound: str, value: object
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        service.list(created={bound: value})
    assert (caught.value.code, caught.value.param) == (
        "parameter_invalid_integer",
        f"created[{bound}]",
    )


@pytest.mark.parametrize(
    ("query", "everyone"),
    [
        (f"created<={MAX}", True),
        (f"created<{MAX}", True),
        (f"created:{MAX}", False),
        (f"created={MAX}", False),
        (f"created>{MAX}", False),
        (f"created>={MAX}", False),
        (f"created>={MIN}", True),
        (f"created>{MIN}", True),
        (f"created<{MIN}", False),
        (f"created:{MIN}", False),
        (f'email:"amy@example.com" created<={MAX}', True),
        (f'email:"amy@example.com" created>{MAX}', False),
        (f'created>{MAX} OR email:"amy@example.com"', True),
    ],
)
def test_search_created_at_the_int64_edges(
    service: CustomerService, two: list[str], query: str, everyone: bool
) -> None:
    page = service.search(query=query, expand=["total_count"])
    assert [customer.id for customer in page.data] == (two if everyone else [])
    assert page.total_count == (2 if everyone else 0)


def token(raw: str, query: str) -> str:
    """A page token for ``query`` holding ``raw`` as its sort key, however malformed."""
    made = page_token((0, "cus_0"), query)[len("page_") :]
    tag = base64.urlsafe_b64decode(made + "=" * (-len(made) % 4)).decode().split(":")[0]
    return "page_" + base64.urlsafe_b64encode(f"{tag}:{raw}".encode()).decode().rstrip("=")


def test_page_tokens_at_the_int64_edges(service: CustomerService, two: list[str]) -> None:
    query = 'email:"amy@example.com"'
    assert [
        c.id for c in service.search(query=query, page=token(f"{MAX}:cus_z", query)).data
    ] == two
    assert service.search(query=query, page=token(f"{MIN}:cus_0", query)).data == []
    for crafted in (f"{MAX + 1}:cus_z", f"{MIN - 1}:cus_z", "٣:cus_z", " 3:cus_z", "3_0:cus_z"):
        with pytest.raises(InvalidRequestError) as caught:
            service.search(query=query, page=token(crafted, query))
        assert caught.value.param == "page", crafted
        assert "is not a next_page value" in caught.value.message, crafted


def test_an_idempotency_key_with_params_that_do_not_sort(service: CustomerService) -> None:
    """The fingerprint runs before validation; keys of mixed types used to be a TypeError."""
    first = service.create(idempotency_key="k", metadata={1: "x", "b": "y"})
    assert first.metadata == {"1": "x", "b": "y"}
    assert service.create(idempotency_key="k", metadata={1: "x", "b": "y"}).id == first.id
    with pytest.raises(InvalidRequestError) as caught:
        service.create(idempotency_key="k2", metadata={(1, 2): "x", "b": "y"})
    assert caught.value.param == "metadata"
    nested = {"custom_fields": [{"name": "PO", "value": "1", 3: "x"}]}
    with pytest.raises(InvalidRequestError):
        service.create(idempotency_key="k3", invoice_settings=nested)
    circular: dict[str, object] = {}
    circular["self"] = circular
    with pytest.raises(InvalidRequestError):
        service.create(idempotency_key="k4", metadata=circular)
    assert service.store.count() == 1


@pytest.mark.parametrize("index", ["²", "٣", "߁", "𝟘"])
def test_an_array_index_in_other_digits_is_a_400_over_http(
    server_service: tuple[RunningServer, CustomerService], index: str
) -> None:
    server, service = server_service
    before = service.store.count()
    for body in (f"expand[{index}]=x", f"email=a@b.co&preferred_locales[{index}]=en"):
        status, _, answer = server.request(
            "POST", "/v1/customers", body=body.encode(), headers=FORM
        )
        assert status == 400, body
        assert answer["error"]["type"] == "invalid_request_error"
    assert service.store.count() == before
    assert decode(f"expand[{index}]=x") == {"expand": {index: "x"}}


def test_an_array_index_in_other_digits_is_one_error_line_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["create", "--db", str(tmp_path / "c.db"), "-d", "expand[²]=x"])
    captured = capsys.readouterr()
    assert (status, captured.out, captured.err) == (1, "", "error: Invalid array for expand\n")
