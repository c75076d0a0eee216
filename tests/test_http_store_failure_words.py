"""A store's failure reaches an HTTP client as Stripe's api_error without the store's
words: they name hosts, databases, users and files, which belong in the server's log
(trial 5: a PostgreSQL outage's 503 told clients host, port, database and user)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore, StoreError
from customer_core.http.api import StripeAPI

DETAIL = "Could not reach the customer store host=db.internal port=5433 dbname=crm user=app"


class DownStore(MemoryStore):
    """A store whose reads fail as a database that went away does."""

    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status

    def get(self, customer_id: str) -> Any:
        raise StoreError(DETAIL, http_status=self.status)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            503,
            "The service is unavailable right now (its store could not be reached or stayed "
            "busy); nothing was changed. Retry the request.",
        ),
        (500, "An unknown error occurred."),
    ],
)
def test_a_store_failure_is_logged_not_told(
    status: int, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    api = StripeAPI(CustomerService(DownStore(status)), ["sk_test_k"])
    authorization = "Basic " + base64.b64encode(b"sk_test_k:").decode()
    with caplog.at_level("ERROR", logger="customer_core.http"):
        answer = api.handle("GET", "/v1/customers/cus_x", "", {"authorization": authorization}, b"")
    assert answer.status == status
    assert json.loads(answer.body) == {"error": {"message": message, "type": "api_error"}}
    request_id = answer.headers["request-id"]
    assert [record.getMessage() for record in caplog.records] == [
        f"GET /v1/customers/cus_x (request {request_id}): {DETAIL}"
    ]
