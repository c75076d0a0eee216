"""An id in a URL path whose percent-escapes are not UTF-8 (``/v1/customers/%FF``) is a
400, as the same bytes in a form body or query are, instead of turning into U+FFFD and a
404 for an id nobody asked for; valid escapes still decode."""

from __future__ import annotations

import json

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.http.api import StripeAPI

HEADERS = {"authorization": "Bearer sk_test_paths"}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/customers/%FF",
        "/v1/customers/cus_%C3",
        "/v1/customers/%FF/tax_ids",
        "/v1/customers/cus_x/tax_ids/txi_%FE",
        "/v1/events/evt_%FF",
        "/v1/webhook_endpoints/we_%FF",
    ],
)
def test_an_id_that_is_not_utf8_is_a_400(path: str) -> None:
    api = StripeAPI(CustomerService(MemoryStore()), ["sk_test_paths"])
    answer = api.handle("GET", path, "", HEADERS, b"")
    assert answer.status == 400
    assert json.loads(answer.body) == {
        "error": {
            "message": "Invalid request: the URL path is not valid UTF-8 (percent-escapes "
            "included).",
            "type": "invalid_request_error",
        }
    }


def test_an_escaped_utf8_id_is_decoded() -> None:
    api = StripeAPI(CustomerService(MemoryStore()), ["sk_test_paths"])
    answer = api.handle("GET", "/v1/customers/cus_%C3%A9", "", HEADERS, b"")
    assert answer.status == 404
    assert json.loads(answer.body)["error"]["message"] == "No such customer: 'cus_é'"
