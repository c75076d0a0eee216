"""The debug access log (``serve --log-level debug``) names each request's method, path
and status, but never a secret a client wrongly put in the URL."""

from __future__ import annotations

import http.client
import logging
import threading
import time

from customer_core import CustomerService, MemoryStore
from customer_core.http.server import _SecretsHidden, bound_socket, build_server

KEY = "sk_test_access_log_1234"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_keys_in_the_query_string_are_masked_in_the_access_log() -> None:
    server = build_server(CustomerService(MemoryStore()), [KEY], log_level="debug")
    listening = bound_socket("127.0.0.1", 0)
    port = listening.getsockname()[1]
    access = logging.getLogger("uvicorn.access")
    lines = _Lines()
    access.addHandler(lines)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        targets = [
            f"/v1/customers?api_key={KEY}&limit=3",
            "/v1/customers?limit=2&key=hunter2",
            "/v1/customers?email=whsec_abcdef&starting_after=cus_x",
            f"/v1/customers?apikey=1&q={KEY}x&access_token=tok_1&client_secret=cs_2&limit=1",
        ]
        for target in targets:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                connection.request("GET", target, headers={"Authorization": f"Bearer {KEY}"})
                connection.getresponse().read()
            finally:
                connection.close()
        deadline = time.monotonic() + 10
        while len(lines.lines) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        server.should_exit = True
        thread.join(10)
        listening.close()
        access.removeHandler(lines)
    logged = "\n".join(lines.lines)
    for secret in (KEY, "hunter2", "whsec_abcdef", "tok_1", "cs_2"):
        assert secret not in logged
    assert '"GET /v1/customers?api_key=***&limit=3 HTTP/1.1" 400' in logged
    assert '"GET /v1/customers?limit=2&key=*** HTTP/1.1" 400' in logged
    assert '"GET /v1/customers?email=***&starting_after=cus_x HTTP/1.1" 400' in logged
    assert (
        '"GET /v1/customers?apikey=***&q=***&access_token=***&client_secret=***&limit=1 '
        'HTTP/1.1" 400' in logged
    )


def test_a_servers_own_key_is_masked_under_any_name_and_encoding() -> None:
    hidden = _SecretsHidden()
    hidden.add_keys(["local secret/1", "k"])
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", "/v1/k/kk?a=local%20secret%2F1&b=local+secret%2F1&c=k", "1.1", 200),
        None,
    )
    assert hidden.filter(record)
    # A key is masked where it is a whole segment or value, not inside other words.
    assert record.getMessage() == '127.0.0.1:1 - "GET /v1/***/kk?a=***&b=***&c=*** HTTP/1.1" 200'
