"""What ``customer-core serve`` prints: the API's URL as a client can use it (an IPv6
address in brackets) and a webhook URL without its password (secrets never reach logs)."""

from __future__ import annotations

from .test_serve_webhooks import Server


def test_serve_prints_usable_urls_and_no_password() -> None:
    server = Server(
        "--memory", "--host", "::1", "--webhook", "http://hooks:s3cret@127.0.0.1:9/stripe?x=1"
    )
    try:
        server.secrets(1)
    finally:
        server.terminate()
    printed = "".join(server.stderr)
    assert "s3cret" not in printed
    assert (
        f"customer_core: Stripe customers API on http://[::1]:{server.port}/v1/customers "
        "(data: memory)\n"
    ) in printed
    assert (
        "customer_core: events are delivered to http://hooks:***@127.0.0.1:9/stripe?x=1 (we_"
        in (printed)
    )
