"""Where a request's params come from: Stripe reads the query string and the form body of
every request as one bucket (Rack's ``GET.merge(POST)``), whatever the method
(stripe/stripe-mock#100, stripe/stripe-node#230). ``curl -X POST URL?email=...`` must not
make a customer without its email, and a ``DELETE`` with an unknown name in its body is
refused, not read past.

Driven through the HTTP server with raw requests (the SDKs send each param one way only).
"""

from __future__ import annotations

from customer_core import CustomerService

from . import test_http
from .test_http import RunningServer

server_service = test_http.server_service
server = test_http.server

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _create(server: RunningServer, body: bytes) -> str:
    status, _, made = server.request("POST", "/v1/customers", body=body, headers=FORM)
    assert status == 200, made
    customer_id: str = made["id"]
    return customer_id


def test_a_post_reads_its_query_string(server: RunningServer) -> None:
    status, _, made = server.request("POST", "/v1/customers?email=query%40example.com&name=Q")
    assert status == 200
    assert (made["email"], made["name"]) == ("query@example.com", "Q")
    status, _, updated = server.request("POST", f"/v1/customers/{made['id']}?metadata[plan]=gold")
    assert status == 200 and updated["metadata"] == {"plan": "gold"}


def test_query_and_body_are_one_bucket_and_the_body_wins(server: RunningServer) -> None:
    status, _, made = server.request(
        "POST",
        "/v1/customers?name=FromQuery&description=kept",
        body=b"name=FromBody&email=both%40example.com",
        headers=FORM,
    )
    assert status == 200
    assert (made["name"], made["description"], made["email"]) == (
        "FromBody",
        "kept",
        "both@example.com",
    )


def test_an_unknown_name_in_the_query_of_a_post_is_refused(
    server_service: tuple[RunningServer, CustomerService],
) -> None:
    server, service = server_service
    before = len(service.list(limit=100).data)
    status, _, body = server.request(
        "POST", "/v1/customers?bogus=1", body=b"email=x%40example.com", headers=FORM
    )
    assert status == 400
    assert body["error"]["code"] == "parameter_unknown" and body["error"]["param"] == "bogus"
    assert len(service.list(limit=100).data) == before


def test_a_delete_with_an_unknown_name_in_its_body_deletes_nothing(
    server_service: tuple[RunningServer, CustomerService],
) -> None:
    server, service = server_service
    customer_id = _create(server, b"email=keep%40example.com")
    status, _, body = server.request(
        "DELETE", f"/v1/customers/{customer_id}", body=b"bogus=1", headers=FORM
    )
    assert status == 400
    assert body["error"]["message"] == "Received unknown parameter: bogus"
    assert service.retrieve(customer_id).to_dict()["email"] == "keep@example.com"


def test_a_get_reads_a_form_body(server: RunningServer) -> None:
    for n in range(2):
        _create(server, f"email=get{n}%40example.com".encode())
    status, _, page = server.request("GET", "/v1/customers", body=b"limit=1", headers=FORM)
    assert status == 200 and len(page["data"]) == 1 and page["has_more"] is True


def test_a_get_body_that_is_not_a_form_is_no_params(server: RunningServer) -> None:
    _create(server, b"email=json%40example.com")
    status, _, page = server.request(
        "GET",
        "/v1/customers?limit=1",
        body=b'{"limit": 3}',
        headers={"Content-Type": "application/json"},
    )
    assert status == 200 and len(page["data"]) == 1


def test_a_post_body_that_is_not_a_form_is_still_refused(server: RunningServer) -> None:
    status, _, body = server.request(
        "POST",
        "/v1/customers?name=Q",
        body=b'{"email": "j@example.com"}',
        headers={"Content-Type": "application/json"},
    )
    assert status == 400
    assert body["error"]["message"].startswith(
        "Invalid request: unsupported Content-Type application/json."
    )
