"""The delivery attempts list's cursors (issue 13 item 7): ``starting_after`` and
``ending_before`` page by attempt id as the customer list's cursors do, with its limits,
``has_more`` and errors, on every store, through the service, HTTP and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from customer_core import CustomerService, SQLiteStore
from customer_core.errors import InvalidRequestError
from customer_core.models import Record
from customer_core.testing.contract_outbox import make_attempt

from . import test_http

server_service = test_http.server_service


def attempt(attempt_id: str, created: int, endpoint: str) -> Record:
    """An attempt as the worker records it."""
    record = make_attempt(attempt_id, created, endpoint, status_code=200, succeeded=True)
    del record["response"]
    fields = {"attempt": 1, "url": "http://127.0.0.1:9/", "duration_ms": 3, "next_attempt": None}
    return {**record, **fields}


def seed(service: CustomerService) -> tuple[str, str]:
    """Two endpoints; five attempts to the first (wda_1 .. wda_5, created 100, 100, 200,
    300, 300) and one to the second (wda_9, created 200). Return the endpoints' ids."""
    endpoints = [
        service.webhook_endpoints.create(url="http://127.0.0.1:9/", enabled_events=["*"]).id
        for _ in range(2)
    ]
    times = [100, 100, 200, 300, 300]
    attempts = [attempt(f"wda_{n}", t, endpoints[0]) for n, t in enumerate(times, 1)]
    service.store.outbox_settle([], [*attempts, attempt("wda_9", 200, endpoints[1])])
    return endpoints[0], endpoints[1]


def page(service: CustomerService, **params: Any) -> tuple[list[str], bool]:
    result = service.webhooks.attempts(**params)
    return [item.id for item in result.data], result.has_more


def test_starting_after_pages_back_to_the_oldest(service: CustomerService) -> None:
    first, _ = seed(service)
    assert page(service, endpoint=first, limit=2) == (["wda_5", "wda_4"], True)
    assert page(service, endpoint=first, limit=2, starting_after="wda_4") == (
        ["wda_3", "wda_2"],
        True,
    )
    assert page(service, endpoint=first, limit=2, starting_after="wda_2") == (["wda_1"], False)
    assert page(service, limit=3, starting_after="wda_4") == (["wda_9", "wda_3", "wda_2"], True)


def test_ending_before_gives_the_page_just_newer_newest_first(service: CustomerService) -> None:
    first, _ = seed(service)
    assert page(service, endpoint=first, limit=2, ending_before="wda_1") == (
        ["wda_3", "wda_2"],
        True,
    )
    assert page(service, endpoint=first, limit=2, ending_before="wda_3") == (
        ["wda_5", "wda_4"],
        False,
    )
    assert page(service, endpoint=first, ending_before="wda_5") == ([], False)
    assert page(service, limit=2, ending_before="wda_2") == (["wda_9", "wda_3"], True)


def test_a_cursor_of_another_endpoint_positions_the_page(service: CustomerService) -> None:
    first, second = seed(service)
    # wda_9 (created 200) sorts between wda_3 and wda_4.
    assert page(service, endpoint=first, starting_after="wda_9") == (
        ["wda_3", "wda_2", "wda_1"],
        False,
    )
    assert page(service, endpoint=second, starting_after="wda_3") == ([], False)


def test_cursors_combine_with_created(service: CustomerService) -> None:
    first, _ = seed(service)
    assert page(service, endpoint=first, created={"gte": 200}, starting_after="wda_4") == (
        ["wda_3"],
        False,
    )
    assert page(service, endpoint=first, created={"lt": 300}, ending_before="wda_1", limit=1) == (
        ["wda_2"],
        True,
    )


def refusal(service: CustomerService, **params: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(InvalidRequestError) as caught:
        service.webhooks.attempts(**params)
    return caught.value.http_status, caught.value.to_dict()["error"]


def test_an_unknown_cursor_is_refused_before_both_cursors(service: CustomerService) -> None:
    seed(service)
    status, error = refusal(service, starting_after="wda_nope")
    assert status == 400
    assert (error["type"], error["code"], error["param"], error["message"]) == (
        "invalid_request_error",
        "resource_missing",
        "starting_after",
        "No such webhook delivery attempt: 'wda_nope'",
    )
    _, error = refusal(service, ending_before="wda_nope")
    assert (error["param"], error["message"]) == (
        "ending_before",
        "No such webhook delivery attempt: 'wda_nope'",
    )
    _, error = refusal(service, starting_after="wda_1", ending_before="wda_nope")
    assert error["param"] == "ending_before"
    _, error = refusal(service, starting_after="wda_1", ending_before="wda_2")
    assert error["message"] == (
        "Received both starting_after and ending_before parameters. Please pass in only one."
    )


def test_limits_are_the_customer_lists(service: CustomerService) -> None:
    seed(service)
    for limit in (0, 101, "ten"):
        _, error = refusal(service, limit=limit)
        assert error["param"] == "limit"
        assert error["message"] == service_limit_message(service, limit)
    assert page(service, limit=100)[0] == ["wda_5", "wda_4", "wda_9", "wda_3", "wda_2", "wda_1"]
    assert len(page(service)[0]) == 6


def service_limit_message(service: CustomerService, limit: object) -> str:
    """The customer list's message for the same limit."""
    with pytest.raises(InvalidRequestError) as caught:
        service.list(limit=limit)
    return caught.value.message


def test_cursors_over_http_and_on_the_command_line(
    server_service: tuple[test_http.RunningServer, CustomerService], tmp_path: Path
) -> None:
    server, service = server_service
    first, _ = seed(service)
    status, _, body = server.request(
        "GET", f"/v1/webhook_delivery_attempts?endpoint={first}&limit=2&starting_after=wda_4"
    )
    assert status == 200
    assert ([item["id"] for item in body["data"]], body["has_more"]) == (["wda_3", "wda_2"], True)
    status, _, body = server.request("GET", "/v1/webhook_delivery_attempts?ending_before=wda_x")
    assert (status, body["error"]["param"], body["error"]["code"]) == (
        400,
        "ending_before",
        "resource_missing",
    )

    data = tmp_path / "customers.db"
    with SQLiteStore(data) as store:
        seed(CustomerService(store))
    done = subprocess.run(
        [sys.executable, "-m", "customer_core", "webhooks", "attempts", "--db", str(data)]
        + ["-d", "limit=2", "-d", "starting_after=wda_9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert ([item["id"] for item in listed["data"]], listed["has_more"]) == (
        ["wda_3", "wda_2"],
        True,
    )
