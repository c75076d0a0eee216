"""A client that leaves before its request body is whole: the app answers nothing, writes
nothing and raises nothing (uvicorn would log each raise as a traceback: trial 6)."""

from __future__ import annotations

import asyncio
from typing import Any

from customer_core import CustomerService, MemoryStore
from customer_core.http.app import create_app


def test_a_client_gone_mid_body_gets_no_answer_and_changes_nothing() -> None:
    service = CustomerService(MemoryStore())
    app = create_app(service, ["sk_test_local"])
    parts: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"email=jen", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return parts.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/customers",
        "raw_path": b"/v1/customers",
        "query_string": b"",
        "headers": [
            (b"authorization", b"Bearer sk_test_local"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"100"),
        ],
    }
    asyncio.run(app(scope, receive, send))
    assert sent == []
    assert service.list().data == []
