"""The test-only reset route answers as every other route does: indented JSON ending in a
newline, with Stripe's headers, and it needs the API key."""

from __future__ import annotations

import json

from customer_core import CustomerService, MemoryStore
from customer_core.http.api import API_VERSION
from customer_core.http.reset import RESET_PATH, ResettableAPI


def test_the_reset_route_restores_and_answers_like_the_api() -> None:
    service = CustomerService(MemoryStore(), seed=7)
    api = ResettableAPI(service, ["sk_test_123"], service.snapshot())
    service.create(email="amy@example.com")
    key = {"authorization": "Bearer sk_test_123"}

    answer = api.handle("POST", RESET_PATH, "", key, b"")
    assert answer.status == 200
    assert answer.body == b'{\n  "object": "customer_core.reset",\n  "reset": true\n}\n'
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["stripe-version"] == API_VERSION
    assert answer.headers["request-id"].startswith("req_")
    assert service.list().data == []

    refused = api.handle("POST", RESET_PATH, "", {}, b"")
    assert refused.status == 401
    assert refused.body.endswith(b"}\n") and b'\n  "error": {' in refused.body
    assert json.loads(refused.body)["error"]["type"] == "invalid_request_error"
