"""A bug's traceback in the server's log is masked as the log lines' arguments are: an
exception message that quotes an API key, an Authorization header's credentials or a
webhook URL's password shows ``***`` in their place (the filter masked only the
arguments, and the traceback was printed as raised)."""

from __future__ import annotations

import base64
import logging
import sys
from typing import Any

import pytest

from customer_core import CustomerService, MemoryStore
from customer_core.http.server import _SecretsHidden

from .test_http import API_KEY, RunningServer

BASIC = base64.b64encode(f"{API_KEY}:".encode()).decode()
HOOK = "https://hook:pw-4f9e2a@example.com/in"
SIGNING = "whsec_0123456789abcdefghijABCDEFGHIJKL"
SECRETS = (API_KEY, BASIC, "pw-4f9e2a", SIGNING)


class BrokenStore(MemoryStore):
    """A store with a bug whose message quotes what it was handed."""

    def get(self, customer_id: str) -> Any:
        try:
            raise LookupError(f"api_key={API_KEY}; signing {SIGNING}")
        except LookupError as cause:
            message = (
                f"customer {customer_id}: header 'Authorization: Basic {BASIC}', "
                f"'Bearer {API_KEY}', endpoint {HOOK}"
            )
            raise RuntimeError(message) from cause


def test_a_bugs_traceback_is_masked_in_the_servers_log(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="customer_core.http"),
        RunningServer(CustomerService(BrokenStore())) as server,
    ):
        status, _, body = server.request("GET", "/v1/customers/cus_broken")
    assert status == 500
    assert body == {"error": {"message": "An unknown error occurred.", "type": "api_error"}}
    [record] = [r for r in caplog.records if r.name == "customer_core.http"]
    assert record.exc_info is not None  # still there for handlers that want the exception
    assert record.exc_text is not None
    printed = [caplog.text, record.exc_text, logging.Formatter().format(record)]
    for text in printed:
        for secret in SECRETS:
            assert secret not in text
    lines = record.exc_text.splitlines()
    assert lines[-1] == (
        "RuntimeError: customer cus_broken: header 'Authorization: Basic ***', "
        "'Bearer ***', endpoint https://hook:***@example.com/in"
    )
    assert "LookupError: api_key=***; signing ***" in lines
    assert lines[0] == "Traceback (most recent call last):"
    assert any(line.endswith(", in get") for line in lines)  # the frames are all there


class Caught(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_uvicorns_error_lines_are_masked_too() -> None:
    handler = Caught()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"Bearer {API_KEY}")
        except ValueError:
            logger.exception("Exception in ASGI application")  # as uvicorn logs an app's
    finally:
        logger.removeHandler(handler)
    [record] = handler.records
    assert record.exc_text is not None
    assert record.exc_text.splitlines()[-1] == "ValueError: Bearer ***"


def test_a_servers_own_key_is_masked_as_a_word_of_a_traceback() -> None:
    hidden = _SecretsHidden()
    hidden.add_keys(["local-key-7", "k"])
    try:
        raise KeyError("sent local-key-7, 'k' and \"local-key-7\" but not keys or local-key-70")
    except KeyError:
        record = logging.LogRecord(
            "customer_core.http", logging.ERROR, "", 0, "bug", (), sys.exc_info()
        )
    assert hidden.filter(record)
    assert record.exc_text is not None
    assert record.exc_text.splitlines()[-1] == (
        "KeyError: 'sent ***, \\'***\\' and \"***\" but not keys or local-key-70'"
    )


def test_query_values_are_masked_only_up_to_a_space() -> None:
    """In a traceback, ``key=`` ends at a space: the source lines around it stay readable."""
    hidden = _SecretsHidden()
    record = logging.LogRecord(
        "customer_core.http",
        logging.ERROR,
        "",
        0,
        "%s",
        ("GET /v1/customers?api_key=abc&limit=3 and then token=xyz more",),
        None,
    )
    record.stack_info = '  File "x.py", line 1\n    idempotency_key = headers.get("k")'
    assert hidden.filter(record)
    assert record.getMessage() == "GET /v1/customers?api_key=***&limit=3 and then token=xyz more"
    assert record.stack_info == '  File "x.py", line 1\n    idempotency_key = headers.get("k")'
