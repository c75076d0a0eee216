"""Stripe's HTTP surface for customers, independent of any web framework.

``StripeAPI.handle`` takes a request as plain values (method, path, query string,
headers, body) and returns the status, headers and JSON body Stripe would send. The ASGI
app (``customer_core.http.app``) and the in-process SDK transport
(``customer_core.testing.StripeHTTPClient``) are thin adapters over it. It decodes,
authenticates, routes and encodes; every customer rule lives in the service.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pydantic_core

from ..api_versions import well_formed_api_version
from ..errors import APIError, CustomerCoreError, InvalidRequestError
from ..models import API_VERSION, BODY_INDENT
from ..service import CustomerService, Operation, Outcome
from ..settings import check_api_keys
from ..tax_ids import TaxIdOperation
from .forms import decode

__all__ = [
    "API_VERSION",
    "MAX_BODY_BYTES",
    "MAX_URL_BYTES",
    "Response",
    "StripeAPI",
    "json_response",
    "mask_key",
    "url_too_long",
]

MAX_BODY_BYTES = 1024 * 1024
MAX_URL_BYTES = 8192
"""The longest request target (path and query) served; longer ones get a 414, as from
nginx, whose default limit this is."""
MAX_HEADER_BYTES = 16384
"""The most a request's header names and values may hold together; more gets a 431 from
either parser (``customer_core.http.protocols``)."""
INDENT = BODY_INDENT
"""Bodies are pretty-printed like Stripe's (``models.BODY_INDENT``)."""

logger = logging.getLogger("customer_core.http")

_ITEM = re.compile(r"^/v1/customers/([^/]+)$")
_TAX_IDS = re.compile(r"^/v1/customers/([^/]+)/tax_ids(?:/([^/]+))?$")
_EVENTS = re.compile(r"^/v1/events(?:/([^/]+))?$")
_WEBHOOK_ENDPOINTS = re.compile(r"^/v1/webhook_endpoints(?:/([^/]+))?$")
_KEY_PREFIX = re.compile(r"^[a-z]{2,4}_(?:test_|live_)?")
_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, "
    "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication "
    "for details, or we can help at https://support.stripe.com/."
)


@dataclass
class Response:
    """What to send back: status, headers (lowercase names) and the JSON body."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def mask_key(key: str) -> str:
    """Show an API key the way Stripe does in errors: its prefix and last 4 characters.

    >>> mask_key("sk_test_4eC39HqLyjWDarjtT1zdp7dc")
    'sk_test_********************p7dc'
    >>> mask_key("short")
    '*****'
    """
    match = _KEY_PREFIX.match(key)
    prefix = match.group() if match else ""
    rest = len(key) - len(prefix)
    tail = key[-4:] if rest > 8 else ""
    # At most 96 stars: a real key has fewer; a 50 KB one is not sent back whole.
    return prefix + "*" * min(rest - len(tail), 96) + tail


def _store_failed(status: int) -> str:
    """What a client is told when the store failed (the details are in the server's log)."""
    if status == 503:
        return (
            "The service is unavailable right now (its store could not be reached or stayed "
            "busy); nothing was changed. Retry the request."
        )
    return "An unknown error occurred."


def _json(payload: Any) -> bytes:
    return pydantic_core.to_json(payload, indent=INDENT)


# Stripe's CORS headers (contract 18.1): any origin may call the API from a browser.
_CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-credentials": "true",
    "access-control-allow-methods": "GET, HEAD, PUT, PATCH, POST, DELETE",
    "access-control-max-age": "300",
    "access-control-expose-headers": "Request-Id, Stripe-Version, Idempotency-Key, Idempotent-Replayed",
}
_ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, Stripe-Version"
_FORM = "application/x-www-form-urlencoded"


_HEADERS = {
    "content-type": "application/json",
    "request-id": "",
    "stripe-version": API_VERSION,
    **_CORS,
}
"""Every answer's headers, in their order; ``request-id`` is filled in per request."""


def _respond(status: int, body: bytes, request_id: str) -> Response:
    # Stripe's bodies end with a newline (a 360-byte error body is sent with Content-Length 361).
    headers = _HEADERS.copy()
    headers["request-id"] = request_id
    return Response(status, body + b"\n", headers)


def json_response(status: int, payload: Any, request_id: str) -> Response:
    """A response carrying ``payload`` as every route's bodies are sent: indented JSON and
    Stripe's headers (for routes of our own, such as the test-only reset)."""
    return _respond(status, _json(payload), request_id)


def _error(status: int, message: str) -> CustomerCoreError:
    return InvalidRequestError(message, http_status=status)


def _check_version(headers: Mapping[str, str]) -> None:
    """Refuse a ``Stripe-Version`` that is not a well-formed version (docs/decisions.md).

    Any well-formed version is accepted: the SDKs send their own, often newer than ours.
    """
    version = headers.get("stripe-version")
    if version is not None and not well_formed_api_version(version, beta_flags=True):
        raise _error(400, f"Invalid Stripe API version: {version}")


def _refusal(status: int, message: str, request_id: str) -> Response:
    """Stripe's error answer with ``status`` and ``message`` to a request refused before
    any route ran (its size, its time, its form)."""
    return _respond(status, _json(_error(status, message).to_dict()), request_id)


def url_too_long(request_id: str) -> Response:
    """The 414 answer for a request target over ``MAX_URL_BYTES``, also sent by the HTTP
    parsers before a request reaches the app (``customer_core.http.protocols``)."""
    return _refusal(414, f"Request URL too long: the limit is {MAX_URL_BYTES} bytes.", request_id)


def headers_too_large(request_id: str) -> Response:
    """The 431 answer for headers over ``MAX_HEADER_BYTES``, sent by the HTTP parser
    (``customer_core.http.protocols``) before the request reaches the app."""
    message = f"Request headers too large: the limit is {MAX_HEADER_BYTES} bytes."
    return _refusal(431, message, request_id)


def malformed_request(request_id: str) -> Response:
    """The 400 answer for a request the HTTP parser could not read, sent by the parsers
    (``customer_core.http.protocols``) instead of uvicorn's plain-text one."""
    message = (
        "Invalid HTTP request: it could not be read as HTTP/1.1 (its request line, a header, "
        "its Content-Length or its chunked body is malformed)."
    )
    return _refusal(400, message, request_id)


def request_timeout(request_id: str, message: str) -> Response:
    """The 408 answer for a request whose head or body did not arrive in time, sent by the
    HTTP parsers (``customer_core.http.protocols``) before the request reaches the app."""
    return _refusal(408, message, request_id)


class StripeAPI:
    """Answer Stripe API requests for ``/v1/customers`` from a CustomerService.

    ``api_keys``: the keys clients must send (Bearer, or Basic with the key as user);
    None accepts any request (only for in-process use, never for a server), or with
    ``require_key`` any request that sends a key: a missing or empty one is a 401, as on
    Stripe (the stripe package's test doubles).
    """

    def __init__(
        self, service: CustomerService, api_keys: Iterable[str] | None, *, require_key: bool = False
    ) -> None:
        if not isinstance(service, CustomerService):
            msg = f"service must be a CustomerService, not {service!r}."
            raise TypeError(msg)
        self.service = service
        self._require_key = require_key
        keys = check_api_keys(api_keys)
        self._api_keys = None if keys is None else [key.encode() for key in keys]
        if self._api_keys is not None and not self._api_keys:
            msg = "StripeAPI needs at least one API key (or None for in-process use)."
            raise ValueError(msg)

    def handle(
        self,
        method: str,
        path: str,
        query: str | bytes,
        headers: Mapping[str, str],
        body: bytes | str,
    ) -> Response:
        """Answer one request; ``headers`` must have lowercase names, ``body`` is the
        form body as bytes or (from the in-process transport) text.

        HEAD is answered as GET (the server sends no body); OPTIONS is a CORS preflight,
        answered without an API key.
        """
        method = method.upper()
        if method == "OPTIONS":
            return self._preflight(headers)
        request_id = self.service.ids.request_id()
        replayed = False
        try:
            self._authenticate(headers)
            _check_version(headers)
            outcome = self._route(
                "GET" if method == "HEAD" else method, path, query, headers, body, request_id
            )
            answer, replayed = _respond(200, outcome.to_json(), request_id), outcome.replayed
        except Exception as error:
            answer, replayed = self._failure(error, method, path, request_id)
        idempotency_key = headers.get("idempotency-key")
        if idempotency_key is not None and method == "POST":
            answer.headers["idempotency-key"] = idempotency_key
        if replayed:
            answer.headers["idempotent-replayed"] = "true"
        return answer

    def _failure(
        self, error: Exception, method: str, path: str, request_id: str
    ) -> tuple[Response, bool]:
        """The answer to ``error`` and whether it is a replay; the store's failures and
        bugs are logged (call it in the ``except`` block: a bug's traceback is logged)."""
        if isinstance(error, APIError):
            # The store failed: its words name hosts, databases and files, for the log only.
            logger.error("%s %s (request %s): %s", method, path, request_id, error.message)
            status = error.http_status
            payload = {"error": {"message": _store_failed(status), "type": "api_error"}}
            return json_response(status, payload, request_id), error.replayed
        if isinstance(error, CustomerCoreError):
            return json_response(error.http_status, error.to_dict(), request_id), error.replayed
        # A bug: answer like Stripe's 500, log without request data.
        logger.exception("unexpected error answering %s %s (request %s)", method, path, request_id)
        payload = {"error": {"message": "An unknown error occurred.", "type": "api_error"}}
        return json_response(500, payload, request_id), False

    def _preflight(self, headers: Mapping[str, str]) -> Response:
        """A CORS preflight's answer: the methods, and the headers the browser asked for."""
        return Response(
            200,
            b"",
            {
                "request-id": self.service.ids.request_id(),
                **_CORS,
                "access-control-allow-headers": headers.get(
                    "access-control-request-headers", _ALLOWED_HEADERS
                ),
            },
        )

    def url_too_long(self) -> Response:
        """The 414 answer for a request target over ``MAX_URL_BYTES``."""
        return url_too_long(self.service.ids.request_id())

    def too_large(self, limit: int, headers: Mapping[str, str]) -> Response:
        """The 413 answer for a body over ``limit`` bytes (the body is never read whole)."""
        message = f"Request body too large: the limit is {limit} bytes."
        return _refusal(413, message, self.service.ids.request_id())

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        if self._api_keys is None and not self._require_key:
            return
        authorization = headers.get("authorization", "").strip()
        if not authorization:
            raise _error(401, _NO_KEY)
        scheme, _, credentials = authorization.partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "basic":
            try:
                credentials = (
                    base64.b64decode(credentials, validate=True).decode().partition(":")[0]
                )
            except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8
                raise _error(
                    401,
                    "Invalid API Key provided: the Basic credentials are not base64-encoded UTF-8 text.",
                ) from None
        elif scheme.lower() != "bearer":
            raise _error(401, _NO_KEY)
        if not credentials:
            raise _error(401, _NO_KEY)
        if self._api_keys is None:
            return
        offered = credentials.encode()
        if not any(hmac.compare_digest(offered, key) for key in self._api_keys):
            raise _error(401, f"Invalid API Key provided: {mask_key(credentials)}")

    def _route(
        self,
        method: str,
        path: str,
        query: str | bytes,
        headers: Mapping[str, str],
        body: bytes | str,
        request_id: str,
    ) -> Outcome:
        operation = _COLLECTION_ROUTES.get((method, path))
        if operation is not None:  # the busiest routes, found in one lookup
            return self.service.perform(
                operation,
                _request_params(method, query, headers, body),
                idempotency_key=headers.get("idempotency-key"),
                request_id=request_id,
                from_form=True,
            )
        tax_id_route = _resolve_tax_id(method, path)
        event_route = None if tax_id_route else _resolve_event(method, path)
        endpoint_route = _resolve_webhook_endpoint(method, path)
        operation, customer_id = (
            (None, None)
            if tax_id_route or event_route or endpoint_route
            else _resolve(method, path)
        )
        params = _request_params(method, query, headers, body)
        idempotency_key = headers.get("idempotency-key")
        if tax_id_route is not None:
            tax_id_operation, customer_id, tax_id = tax_id_route
            return self.service.tax_ids.perform(
                tax_id_operation,
                params,
                customer=customer_id,
                id=tax_id,
                idempotency_key=idempotency_key,
                request_id=request_id,
            )
        if endpoint_route == _ATTEMPTS_ROUTE:
            return Outcome(self.service.webhooks.attempts(**params))
        if endpoint_route is not None:
            endpoints, (action, endpoint_id) = self.service.webhook_endpoints, endpoint_route
            if action == "create":
                return endpoints.perform_create(params, idempotency_key=idempotency_key)
            if action == "update":
                return endpoints.perform_update(
                    endpoint_id, params, idempotency_key=idempotency_key
                )
            if endpoint_id is None:
                return Outcome(getattr(endpoints, action)(**params))
            return Outcome(getattr(endpoints, action)(endpoint_id, **params))
        if event_route is not None:
            events, (event_id,) = self.service.events, event_route
            if event_id is None:
                return Outcome(events.list(**params))
            return Outcome(events.retrieve(event_id, **params))
        assert operation is not None
        return self.service.perform(
            operation,
            params,
            id=customer_id,
            idempotency_key=idempotency_key,
            request_id=request_id,
            from_form=True,
        )


def _request_params(
    method: str, query: str | bytes, headers: Mapping[str, str], body: bytes | str
) -> dict[str, Any]:
    """The request's params from its query string and its form body, as Stripe reads them:
    one bucket whatever the method (Rack's ``GET.merge(POST)``: a name in both takes the
    body's value), so ``POST /v1/customers?email=...`` sets the email and ``DELETE`` with
    an unknown name in its body is refused instead of read past (docs/decisions.md)."""
    params = decode(query) if query else {}
    if not body:
        return params
    form = headers.get("content-type", "").partition(";")[0].strip().lower() == _FORM
    if not form:
        if method != "POST":
            return params  # a GET or DELETE body that is not a form is no params, as in Rack
        # Stripe's words, then what to send instead.
        declared = headers.get("content-type", "")
        problem = f"unsupported Content-Type {declared}" if declared else "no Content-Type"
        msg = f"Invalid request: {problem}. Send the body form-encoded, with Content-Type: {_FORM}."
        raise _error(400, msg)
    return {**params, **decode(body)}


_ROUTES: dict[tuple[str, str], Operation] = {
    ("POST", "collection"): "create",
    ("GET", "collection"): "list",
    ("GET", "search"): "search",
    ("GET", "item"): "retrieve",
    ("POST", "item"): "update",
    ("DELETE", "item"): "delete",
}


_COLLECTION_ROUTES: dict[tuple[str, str], Operation] = {
    ("POST", "/v1/customers"): "create",
    ("GET", "/v1/customers"): "list",
    ("GET", "/v1/customers/search"): "search",
}
"""``_resolve``'s answers for the paths without an id."""


def _path_id(segment: str) -> str:
    """An id as a path segment carries it, percent-decoded; escapes that are not UTF-8
    are refused as in a form body, instead of becoming U+FFFD and a 404 for another id."""
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        msg = "Invalid request: the URL path is not valid UTF-8 (percent-escapes included)."
        raise _error(400, msg) from None


def _resolve(method: str, path: str) -> tuple[Operation, str | None]:
    """Map a method and a raw (still percent-encoded) path to an operation and an id."""
    customer_id = None
    if path == "/v1/customers":
        kind = "collection"
    elif path == "/v1/customers/search":
        kind = "search"
    else:
        match = _ITEM.match(path)
        kind = "item" if match else ""
        customer_id = _path_id(match.group(1)) if match else None
    operation = _ROUTES.get((method, kind))
    if operation is None:
        raise _unrecognized(method, path)
    return operation, customer_id


_TAX_ID_ROUTES: dict[tuple[str, bool], TaxIdOperation] = {
    ("POST", False): "create",
    ("GET", False): "list",
    ("GET", True): "retrieve",
    ("DELETE", True): "delete",
}


def _resolve_tax_id(method: str, path: str) -> tuple[TaxIdOperation, str, str | None] | None:
    """Map a customer tax ID path to an operation, the customer id and the tax id; None
    for any other path."""
    match = _TAX_IDS.match(path) if "/tax_ids" in path else None
    if match is None:
        return None
    customer_id, tax_id = match.groups()
    operation = _TAX_ID_ROUTES.get((method, tax_id is not None))
    if operation is None:
        raise _unrecognized(method, path)
    return operation, _path_id(customer_id), None if tax_id is None else _path_id(tax_id)


def _resolve_event(method: str, path: str) -> tuple[str | None] | None:
    """Map an events path (GET only) to the event id (None: the list); None for any other path."""
    match = _EVENTS.match(path) if path.startswith("/v1/events") else None
    if match is None:
        return None
    if method != "GET":
        raise _unrecognized(method, path)
    event_id = match.group(1)
    return (None if event_id is None else _path_id(event_id),)


_WEBHOOK_ENDPOINT_ROUTES = {
    ("POST", False): "create",
    ("GET", False): "list",
    ("GET", True): "retrieve",
    ("POST", True): "update",
    ("DELETE", True): "delete",
}


_ATTEMPTS_PATH = "/v1/webhook_delivery_attempts"
_ATTEMPTS_ROUTE = ("attempts", None)
"""``GET /v1/webhook_delivery_attempts``: ``svc.webhooks.attempts`` (a customer_core
extension: Stripe shows delivery attempts in its Dashboard only)."""


def _resolve_webhook_endpoint(method: str, path: str) -> tuple[str, str | None] | None:
    """Map a webhook endpoints path to the service method and the endpoint id (or the
    delivery attempts path to ``_ATTEMPTS_ROUTE``); None for any other path."""
    if not path.startswith("/v1/webhook_"):
        return None
    if path == _ATTEMPTS_PATH:
        if method != "GET":
            raise _unrecognized(method, path)
        return _ATTEMPTS_ROUTE
    match = _WEBHOOK_ENDPOINTS.match(path)
    if match is None:
        return None
    endpoint_id = match.group(1)
    action = _WEBHOOK_ENDPOINT_ROUTES.get((method, endpoint_id is not None))
    if action is None:
        raise _unrecognized(method, path)
    return action, None if endpoint_id is None else _path_id(endpoint_id)


def _unrecognized(method: str, path: str) -> CustomerCoreError:
    if path.startswith("//"):
        # An SDK's base address with a trailing slash (http://127.0.0.1:12111/) doubles it:
        # "does not emulate" would send the user looking in the wrong place (trial 7).
        why = (
            "The path starts with two slashes: does the API base address you gave end with "
            "a slash? Give it without one (http://127.0.0.1:12111, not http://127.0.0.1:12111/)."
        )
    else:
        why = (
            f"customer_core does not emulate {method} {path}: it emulates Stripe's customers "
            "and what belongs to them (see docs/testing.md of customer_core)."
        )
    msg = (
        f"Unrecognized request URL ({method}: {path}). {why} Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/."
    )
    return _error(404, msg)
