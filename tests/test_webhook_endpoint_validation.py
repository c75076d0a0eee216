"""Webhook endpoint params (issue 13, item 8, trial findings): a URL a delivery could not
be sent to, and an ``api_version`` that is not a Stripe API version, are Stripe's 400
``invalid_request_error`` on their param, through the service, the official SDK over the
server, and ``serve --webhook``; nothing is created."""

from __future__ import annotations

import pytest
import stripe

from customer_core import CustomerService, InvalidRequestError, MemoryStore
from customer_core.events.webhooks import check_url

from . import test_http

server_service = test_http.server_service
client = test_http.client

BAD_URLS = [
    "http://x:99999/",  # port out of range
    "http://x:0/",
    "http://x:abc/",
    "http://[::1/",  # an unclosed IPv6 bracket used to give "Invalid object for url"
    "http://[zz]/",
    "http:///hooks",  # no host
    "http://:8000/hooks",
    "ftp://example.com/hooks",  # not http(s)
    "example.com/hooks",
    "notaurl",
    "http://exa mple.com/",  # blank or control characters anywhere
    "http://example.com/a b",
    " http://example.com/",
    "http://example.com/\t",
    "http://exa\nmple.com/",
    "http://a..b/",  # an empty label
    "http://" + "a" * 64 + ".com/",  # a label over 63 characters
    "http://<x>/",
]
GOOD_URLS = [
    "http://127.0.0.1:8000/webhooks",
    "http://[::1]:8080/hooks",
    "https://example.com:65535/a?b=c#d",
    "HTTPS://Example.COM/hooks",
    "https://user:secret@example.com/hooks",
    "http://localhost/",
    "https://bücher.example/hooks",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_url_no_delivery_could_reach_is_refused(url: str) -> None:
    service = CustomerService(MemoryStore())
    with pytest.raises(InvalidRequestError) as caught:
        service.webhook_endpoints.create(url=url, enabled_events=["*"])
    assert caught.value.to_dict() == {
        "error": {
            "message": f"Invalid URL: {url}",
            "param": "url",
            "type": "invalid_request_error",
        }
    }
    assert caught.value.http_status == 400
    endpoint = service.webhook_endpoints.create(url="http://x.io/", enabled_events=["*"])
    with pytest.raises(InvalidRequestError) as updating:
        service.webhook_endpoints.update(endpoint.id, url=url)
    assert (updating.value.param, str(updating.value)) == ("url", f"Invalid URL: {url}")
    assert [e.url for e in service.webhook_endpoints.list().data] == ["http://x.io/"]


@pytest.mark.parametrize("url", GOOD_URLS)
def test_urls_a_delivery_can_reach_are_kept_as_given(url: str) -> None:
    service = CustomerService(MemoryStore())
    assert service.webhook_endpoints.create(url=url, enabled_events=["*"]).url == url
    check_url(url)


def test_an_overlong_url_is_refused_as_every_long_string() -> None:
    url = "https://example.com/" + "a" * 4981
    with pytest.raises(InvalidRequestError) as caught:
        CustomerService(MemoryStore()).webhook_endpoints.create(url=url, enabled_events=["*"])
    assert caught.value.param == "url"
    assert str(caught.value).endswith("must be at most 5000 characters")


@pytest.mark.parametrize(
    "version", ["garbage", "latest", "2026-13-01", "2026-02-30", "2026-9-30", "2026-09-30.Endive"]
)
def test_an_api_version_that_is_not_a_stripe_version_is_refused(version: str) -> None:
    service = CustomerService(MemoryStore())
    with pytest.raises(InvalidRequestError) as caught:
        service.webhook_endpoints.create(
            url="http://x.io/", enabled_events=["*"], api_version=version
        )
    assert caught.value.to_dict() == {
        "error": {
            "message": f"Invalid Stripe API version: {version}",
            "param": "api_version",
            "type": "invalid_request_error",
        }
    }
    assert service.webhook_endpoints.list().data == []


@pytest.mark.parametrize("version", ["2026-09-30.endive", "2026-10-28.endive", "2019-02-19"])
def test_well_formed_api_versions_are_kept(version: str) -> None:
    service = CustomerService(MemoryStore())
    endpoint = service.webhook_endpoints.create(
        url="http://x.io/", enabled_events=["*"], api_version=version
    )
    assert service.webhook_endpoints.retrieve(endpoint.id).api_version == version


def test_the_sdk_gets_stripes_400s(client: stripe.StripeClient) -> None:
    for params, message, param in [
        ({"url": "http://x:99999/"}, "Invalid URL: http://x:99999/", "url"),
        ({"url": "http://[::1/"}, "Invalid URL: http://[::1/", "url"),
        (
            {"url": "http://x.io/", "api_version": "garbage"},
            "Invalid Stripe API version: garbage",
            "api_version",
        ),
    ]:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.webhook_endpoints.create(params={**params, "enabled_events": ["*"]})
        assert (caught.value.http_status, caught.value.user_message, caught.value.param) == (
            400,
            message,
            param,
        )
    assert list(client.v1.webhook_endpoints.list().auto_paging_iter()) == []
