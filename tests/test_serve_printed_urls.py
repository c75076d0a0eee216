"""What ``customer-core serve`` prints: the API's URL as a client can use it (an IPv6
address in brackets), a webhook URL without its password or query values (secrets never
reach logs), and the endpoints registered earlier that it delivers to as well."""

from __future__ import annotations

from pathlib import Path

from customer_core import CustomerService, SQLiteStore
from customer_core.events.webhooks import serve_endpoint

from .test_serve_webhooks import Server


def test_serve_prints_usable_urls_and_no_password() -> None:
    server = Server(
        "--memory",
        "--host",
        "::1",
        "--webhook",
        "http://hooks:s3cret@127.0.0.1:9/stripe?token=t0ken&x=1",
    )
    try:
        server.secrets(1)
    finally:
        server.terminate()
    printed = "".join(server.stderr)
    assert "s3cret" not in printed
    assert "t0ken" not in printed
    assert (
        f"customer_core: Stripe customers API on http://[::1]:{server.port}/v1/customers "
        "(data: memory)\n"
    ) in printed
    assert (
        "customer_core: events are delivered to "
        "http://hooks:***@127.0.0.1:9/stripe?token=***&x=*** (we_" in (printed)
    )


def test_serve_names_the_endpoints_registered_earlier_that_it_delivers_to(tmp_path: Path) -> None:
    data = tmp_path / "customers.db"
    with SQLiteStore(data) as store:
        service = CustomerService(store)
        old, _ = serve_endpoint(service, "http://127.0.0.1:9/old")  # an earlier --webhook
        made = service.webhook_endpoints.create(
            url="http://127.0.0.1:9/made?token=t0ken", enabled_events=["customer.created"]
        )
        off = service.webhook_endpoints.create(url="http://127.0.0.1:9/off", enabled_events=["*"])
        service.webhook_endpoints.update(off.id, disabled=True)
    server = Server("--db", str(data), "--webhook", "http://127.0.0.1:9/new")
    try:
        server.secrets(1)
        server.create_when_ready("jenny@example.com")  # every start-up line is printed by now
    finally:
        server.terminate()
    told = [line for line in server.stderr if "also delivered" in line]
    assert told == [
        f"customer_core: events are also delivered to http://127.0.0.1:9/made?token=*** "
        f"({made.id}, registered earlier; DELETE /v1/webhook_endpoints/{made.id} stops it)\n",
        f"customer_core: events are also delivered to http://127.0.0.1:9/old "
        f"({old}, registered earlier; DELETE /v1/webhook_endpoints/{old} stops it)\n",
    ]


def test_a_webhook_url_given_twice_is_one_endpoint_told_once() -> None:
    url = "http://127.0.0.1:9/twice"
    server = Server("--memory", "--webhook", url, "--webhook", url)
    try:
        server.secrets(1)
        endpoints = server.when_ready(lambda client: client.v1.webhook_endpoints.list().data)
    finally:
        server.terminate()
    printed = "".join(server.stderr)
    assert [endpoint.url for endpoint in endpoints] == [url]
    assert printed.count("> Ready! Your webhook signing secret is") == 1
    assert printed.count(f"customer_core: events are delivered to {url} (") == 1
