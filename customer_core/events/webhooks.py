"""Webhook endpoints with Stripe's API: where events are delivered, and the secret that
signs them. Kept by the store, so they survive a restart.

``svc.webhook_endpoints.create(url=..., enabled_events=["customer.*"])`` returns the
endpoint with its ``secret`` (``whsec_...``), the only time the secret is shown; retrieve,
update, delete and list work as Stripe's do. Plain ``http`` and loopback URLs are accepted
(Stripe refuses them in live mode; see docs/decisions.md).
"""

from __future__ import annotations

import ipaddress
import random
import re
import secrets
import string
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, cast
from urllib.parse import urlsplit, urlunsplit

from pydantic import BeforeValidator, ConfigDict, PlainValidator

from .. import metadata as metadata_rules
from ..api_versions import well_formed_api_version
from ..errors import InvalidRequestError, RecordNotFoundError, no_such
from ..expand import check_list_expand
from ..ids import Clock, IdGenerator, go_on_after
from ..models import Record, _Model, _Page
from ..pagination import cursor_range, trim_page
from ..params import (
    Cursor,
    Expand,
    Limit,
    Metadata,
    NoParams,
    _array,
    _error,
    _Params,
    parse,
    path_id,
    text,
)
from ..store.base import SortKey, Store
from .stripe_event_types import STRIPE_EVENT_TYPES

if TYPE_CHECKING:
    from ..outcome import Outcome
    from ..service import CustomerService


__all__ = [
    "SERVE_DESCRIPTION",
    "DeletedWebhookEndpoint",
    "WebhookEndpoint",
    "WebhookEndpointList",
    "WebhookEndpoints",
    "check_url",
    "masked_url",
    "no_such_webhook_endpoint",
    "serve_endpoint",
]

MAX_URL_LENGTH = 5000
_SECRET_ALPHABET = string.ascii_letters + string.digits
_SECRET_LENGTH = 32


def _required_text(valid: Callable[[str], bool], refusal: str) -> Callable[[object], str]:
    """The validator of a string param that cannot be cleared and must be ``valid``, else
    400 ``<refusal><value>``."""

    def validate(value: object) -> str:
        result = text(clearable=False)(value)
        assert result is not None
        if not valid(result):
            raise _error("stripe", message=f"{refusal}{result}")
        return result

    return validate


_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
_HOST_NAME = re.compile(rb"[a-z0-9_.-]+")


def _deliverable(url: str) -> bool:
    """Whether ``url`` is an http(s) URL a delivery can be sent to: a host (a name, an IPv4
    address or a bracketed IPv6 one), a port from 1 to 65535 if any, no blank or control
    character anywhere (docs/decisions.md, "Webhook endpoints")."""
    if _BLANK_OR_CONTROL.search(url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when out of range or not a number
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host or port == 0:
            return False
        if "[" in parts.netloc:
            return ipaddress.ip_address(host).version == 6
        # The name as the request's Host header will carry it (IDNA for non-ASCII).
        return _HOST_NAME.fullmatch(host.encode("idna")) is not None
    except (ValueError, UnicodeError):  # "Invalid IPv6 URL", an empty or too long label
        return False


def check_url(url: str) -> None:
    """Refuse an endpoint URL as ``create`` would (``InvalidRequestError``, param ``url``),
    without creating anything: ``serve --webhook`` checks its URLs before it starts."""
    parse(WebhookEndpointCreateParams, {"url": url, "enabled_events": ["*"]})


def _enabled_event(value: object) -> str:
    result = text(clearable=False)(value)
    assert result is not None
    if result != "*" and result not in STRIPE_EVENT_TYPES:
        msg = (
            f"Invalid enabled_events: {result} is not a Stripe event type; use '*' or "
            "names such as customer.created (only customer events are ever sent)"
        )
        raise _error("stripe", message=msg)
    return result


def _boolean(value: object) -> bool:
    if value is True or value == "true":
        return True
    if value is False or value == "false":
        return False
    if value is None or value == "":  # as every other param that cannot be unset says
        raise _error("parameter_invalid_empty")
    raise _error("stripe", message=f"Invalid boolean: {value}")


EnabledEvents = Annotated[
    tuple[Annotated[str, PlainValidator(_enabled_event)], ...],
    BeforeValidator(_array(clearable=False)),
]
Url = Annotated[str, PlainValidator(_required_text(_deliverable, "Invalid URL: "))]
ApiVersion = Annotated[
    str | None,
    PlainValidator(_required_text(well_formed_api_version, "Invalid Stripe API version: ")),
]
Description = Annotated[str | None, PlainValidator(text())]


class WebhookEndpointCreateParams(_Params):
    """Parameters of ``POST /v1/webhook_endpoints``."""

    api_version: ApiVersion = None
    connect: Annotated[bool, PlainValidator(_boolean)] = False
    description: Description = None
    enabled_events: EnabledEvents
    expand: Expand = ()
    metadata: Metadata = None
    url: Url


class WebhookEndpointUpdateParams(_Params):
    """Parameters of ``POST /v1/webhook_endpoints/{id}``."""

    description: Description = None
    disabled: Annotated[bool, PlainValidator(_boolean)] = False
    enabled_events: EnabledEvents = ()
    expand: Expand = ()
    metadata: Metadata = None
    url: Url = ""


class WebhookEndpointListParams(_Params):
    """Parameters of ``GET /v1/webhook_endpoints``."""

    ending_before: Cursor = None
    expand: Expand = ()
    limit: Limit = 10
    starting_after: Cursor = None


class WebhookEndpointRetrieveParams(_Params):
    expand: Expand = ()


class WebhookEndpoint(_Model):
    """A webhook endpoint; ``secret`` only in the answer to its creation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    api_version: str | None = None
    application: str | None = None
    created: int
    description: str | None = None
    enabled_events: list[str]
    livemode: bool = False
    metadata: dict[str, str] = {}
    secret: str | None = None
    status: Literal["enabled", "disabled"] = "enabled"
    url: str

    def model_dump(self, **options: Any) -> dict[str, Any]:
        """Pydantic's ``model_dump``, leaving ``secret`` out unless it is shown."""
        exclude = None if self.secret is not None else {"secret"}
        return super().model_dump(exclude=exclude, **options)

    def model_dump_json(self, **options: Any) -> str:
        exclude = None if self.secret is not None else {"secret"}
        return super().model_dump_json(exclude=exclude, **options)

    @classmethod
    def from_record(cls, record: Record, *, show_secret: bool = False) -> WebhookEndpoint:
        values = dict(record)
        if not show_secret:
            values.pop("secret", None)
        return cls.model_validate(values)


class DeletedWebhookEndpoint(_Model):
    """``{id, object: "webhook_endpoint", deleted: true}``."""

    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    deleted: Literal[True] = True


class WebhookEndpointList(_Page):
    """One page of ``GET /v1/webhook_endpoints``."""

    object = "list"
    url = "/v1/webhook_endpoints"
    __slots__ = ()

    def __init__(self, records: list[Record], has_more: bool) -> None:
        for record in records:
            record.pop("secret", None)
        super().__init__(records, has_more)

    @property
    def data(self) -> list[WebhookEndpoint]:  # type: ignore[override]
        return [WebhookEndpoint.from_record(record) for record in self._records]

    def __repr__(self) -> str:
        return f"<WebhookEndpointList of {len(self._records)}, has_more={self.has_more}>"


def no_such_webhook_endpoint(
    endpoint_id: object, *, param: str = "id", http_status: int = 404
) -> InvalidRequestError:
    """``No such webhook endpoint: 'we_x'`` (Stripe's words; 404 for a path id, 400 for a
    param)."""
    return no_such("webhook endpoint", endpoint_id, param=param, http_status=http_status)


class Idempotent(Protocol):
    """The service's runner of a POST at most once per idempotency key
    (``CustomerService._idempotent``)."""

    def __call__(
        self,
        endpoint: str,
        key: object,
        params: dict[str, Any],
        prepare: Callable[[], Callable[[], WebhookEndpoint]],
        model: type[WebhookEndpoint],
    ) -> Outcome: ...


class WebhookEndpoints:
    """``svc.webhook_endpoints``: create, retrieve, update, delete and list endpoints."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        seed: int | str | None,
        idempotent: Idempotent,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        # The service's runner of POSTs at most once per idempotency key.
        self._idempotent = idempotent
        # Told after every change, so cached copies of the endpoints are read again.
        self._on_change = on_change
        self._clock = clock
        self._ids = IdGenerator(clock, None if seed is None else f"{seed}:webhook_endpoints")
        # Secrets are unguessable unless the service is seeded (tests that want bytes-identical runs).
        self._secrets: random.Random | None = (
            None if seed is None else random.Random(f"{seed}:webhook_secrets")
        )
        self._lock = threading.Lock()

    def start_ids_after(self, newest: str | None) -> None:
        """Make endpoint ids after ``newest``, the store's newest, and after any the store
        holds where they would go on (a restarted seeded service: ``ids.go_on_after``)."""
        store = self._store
        with self._lock:
            go_on_after(
                self._ids,
                newest,
                self._ids.webhook_endpoint_id,
                lambda id: store.webhook_endpoint_get(id) is not None,
            )

    def id_state(self) -> object:
        """Where the id and (seeded) secret generators stand, for ``CustomerService.snapshot``."""
        with self._lock:
            return (
                self._ids.get_state(),
                None if self._secrets is None else self._secrets.getstate(),
            )

    def set_id_state(self, state: object) -> None:
        """Put the generators back where ``id_state`` saw them."""
        ids, secrets_state = cast(tuple[object, Any], state)
        with self._lock:
            self._ids.set_state(ids)
            if self._secrets is not None and secrets_state is not None:
                self._secrets.setstate(secrets_state)

    def _secret(self) -> str:
        """``whsec_`` and 32 letters and digits, as Stripe's secrets are."""
        if self._secrets is None:
            chosen = [secrets.choice(_SECRET_ALPHABET) for _ in range(_SECRET_LENGTH)]
        else:
            with self._lock:
                chosen = self._secrets.choices(_SECRET_ALPHABET, k=_SECRET_LENGTH)
        return "whsec_" + "".join(chosen)

    def create(self, /, *, idempotency_key: str | None = None, **params: Any) -> WebhookEndpoint:
        """Register an endpoint (``POST /v1/webhook_endpoints``); the answer holds its secret."""
        result = self.perform_create(params, idempotency_key=idempotency_key).result
        return cast(WebhookEndpoint, result)

    def perform_create(
        self, params: dict[str, Any], *, idempotency_key: str | None = None
    ) -> Outcome:
        """``create`` for wrappers: at most once per idempotency key, as Stripe runs every
        POST (the SDK retries a POST with the key it sent; a second endpoint would get every
        event twice, signed with another secret). A replay answers the first creation,
        secret included, with ``replayed`` set."""
        return self._once(
            "/v1/webhook_endpoints", idempotency_key, params, lambda: self._prepare_create(params)
        )

    def _once(
        self,
        path: str,
        idempotency_key: str | None,
        params: dict[str, Any],
        prepare: Callable[[], Callable[[], WebhookEndpoint]],
    ) -> Outcome:
        """A POST at most once per idempotency key (``prepare`` validates and returns the
        write), then the endpoint cache told of the change."""
        outcome = self._idempotent(path, idempotency_key, params, prepare, WebhookEndpoint)
        # After the commit (the service runs the write in a write block when events are
        # on): a cache read again before it would miss the change.
        self._changed()
        return outcome

    def _prepare_create(self, params: dict[str, Any]) -> Callable[[], WebhookEndpoint]:
        """Validate a creation's params; return the creation."""
        p = parse(WebhookEndpointCreateParams, params)
        if not p.enabled_events:
            raise InvalidRequestError(
                "Missing required param: enabled_events.",
                code="parameter_missing",
                param="enabled_events",
            )

        def create() -> WebhookEndpoint:
            record: Record = {
                "id": self._ids.webhook_endpoint_id(),
                "object": "webhook_endpoint",
                "api_version": p.api_version,
                "application": None,
                "created": int(self._clock()),
                "description": p.description,
                "enabled_events": list(p.enabled_events),
                "livemode": False,
                "metadata": metadata_rules.merge({}, p.metadata or {}),
                "secret": self._secret(),
                "status": "enabled",
                "url": p.url,
            }
            self._store.webhook_endpoint_put(record)
            return WebhookEndpoint.from_record(record, show_secret=True)

        return create

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def _get(self, endpoint_id: object) -> Record:
        record = self._store.webhook_endpoint_get(path_id(endpoint_id, "id", "we_..."))
        if record is None:
            raise no_such_webhook_endpoint(endpoint_id)
        return record

    def retrieve(self, id: str, /, **params: Any) -> WebhookEndpoint:
        """Return an endpoint, without its secret."""
        parse(WebhookEndpointRetrieveParams, params)
        return WebhookEndpoint.from_record(self._get(id))

    def update(
        self, id: str, /, *, idempotency_key: str | None = None, **params: Any
    ) -> WebhookEndpoint:
        """Change an endpoint: ``url``, ``enabled_events``, ``description``, ``metadata``
        (merged), ``disabled`` (``status`` becomes ``disabled``; false enables it again)."""
        result = self.perform_update(id, params, idempotency_key=idempotency_key).result
        return cast(WebhookEndpoint, result)

    def perform_update(
        self, id: object, params: dict[str, Any], *, idempotency_key: str | None = None
    ) -> Outcome:
        """``update`` for wrappers: at most once per idempotency key, as Stripe runs every
        POST (the same key with other params is an ``idempotency_error``)."""
        endpoint_id = path_id(id, "id", "we_...")
        return self._once(
            f"/v1/webhook_endpoints/{endpoint_id}",
            idempotency_key,
            params,
            lambda: self._prepare_update(endpoint_id, params),
        )

    def _prepare_update(
        self, endpoint_id: str, params: dict[str, Any]
    ) -> Callable[[], WebhookEndpoint]:
        """Validate an update's params; return the update."""
        p = parse(WebhookEndpointUpdateParams, params)
        given = p.model_fields_set
        if "enabled_events" in given and not p.enabled_events:
            msg = "Invalid enabled_events: give at least one event type, or '*'."
            raise InvalidRequestError(msg, param="enabled_events")

        def update() -> WebhookEndpoint:
            with self._store.transaction():
                record = self._get(endpoint_id)
                if "url" in given:
                    record["url"] = p.url
                if "enabled_events" in given:
                    record["enabled_events"] = list(p.enabled_events)
                if "description" in given:
                    record["description"] = p.description
                if "metadata" in given:
                    record["metadata"] = metadata_rules.merge(record["metadata"], p.metadata)
                if "disabled" in given:
                    record["status"] = "disabled" if p.disabled else "enabled"
                    if p.disabled:  # its deliveries are dropped and stop counting at once
                        self._store.outbox_cancel(record["id"])
                self._store.webhook_endpoint_put(record)
            return WebhookEndpoint.from_record(record)

        return update

    def delete(
        self, id: str, /, *, idempotency_key: str | None = None, **params: Any
    ) -> DeletedWebhookEndpoint:
        """Delete an endpoint for good: no more deliveries go to it, and those not yet made
        are dropped with it (they stop counting in ``pending_webhooks``). An
        ``idempotency_key`` is checked as every call's is, then ignored, as Stripe ignores
        one on a DELETE."""
        from ..outcome import request_info  # imports this package: not at module load

        request_info(None, idempotency_key)  # refuses what a customer's delete refuses
        parse(NoParams, params)
        path_id(id, "id", "we_...")
        try:
            with self._store.transaction():
                self._store.webhook_endpoint_delete(id)
                self._store.outbox_cancel(id)
        except RecordNotFoundError:
            raise no_such_webhook_endpoint(id) from None
        self._changed()
        return DeletedWebhookEndpoint(id=id)

    def list(self, /, **params: Any) -> WebhookEndpointList:
        """Return a page of endpoints, newest first."""
        p = parse(WebhookEndpointListParams, params)
        check_list_expand(p.expand)

        def sort_key(endpoint_id: str) -> SortKey | None:
            record = self._store.webhook_endpoint_get(endpoint_id)
            return None if record is None else (record["created"], record["id"])

        key_range, descending = cursor_range(
            p.starting_after,
            p.ending_before,
            sort_key,
            lambda cursor, param: no_such_webhook_endpoint(cursor, param=param, http_status=400),
        )
        records, has_more = trim_page(
            self._store.webhook_endpoint_scan(key_range, descending=descending, limit=p.limit + 1),
            p.limit,
            descending,
        )
        return WebhookEndpointList(records, has_more)


SERVE_DESCRIPTION = "customer-core serve --webhook"
"""The description of the endpoints ``serve --webhook URL`` registers."""


def masked_url(url: str) -> str:
    """``url`` as it is shown where more people look than the endpoint's owner (serve's
    banner, delivery attempts): its password (``https://user:pass@host/``) and its query
    values (``?token=...``, a common way to authenticate webhooks) may be secrets, shown
    as ``***``.

    >>> masked_url("https://hook:pw@example.com/in?token=abc&v=2")
    'https://hook:***@example.com/in?token=***&v=***'
    """
    if "@" not in url and "?" not in url:  # nothing to mask (delivery attempts ask often)
        return url
    parts = urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{parts.username}:***@{host}")
    if parts.query:
        names = (pair.partition("=")[0] for pair in parts.query.split("&"))
        parts = parts._replace(query="&".join(f"{name}=***" for name in names))
    return urlunsplit(parts)


def serve_endpoint(service: CustomerService, url: str) -> tuple[str, str]:
    """The endpoint ``customer-core serve --webhook URL`` delivers to, and its secret: the
    one an earlier ``serve --webhook`` registered for ``url`` (enabled again, every event),
    so a restart keeps the secret and the pending deliveries; else a new one.

    Servers starting together on one store take turns from the look to the commit, so they
    register one endpoint, not one each with its own secret (trial 4, 3): the block holds
    SQLite's write lock, and on PostgreSQL the lock ``idempotency_get`` takes in a block
    on a key of this URL's (the memory store is one process's)."""
    store = service.store
    with store.transaction():
        store.idempotency_get(f"{SERVE_DESCRIPTION} {url}")
        found = _serve_endpoint_of(service, url)
    service.webhooks.endpoints_changed()  # committed now: caches read it again
    return found


def _serve_endpoint_of(service: CustomerService, url: str) -> tuple[str, str]:
    """``serve_endpoint``'s look and, if need be, creation (inside its block)."""
    for record in service.store.webhook_endpoint_scan(descending=False):
        if record["url"] == url and record.get("description") == SERVE_DESCRIPTION:
            if record["status"] != "enabled" or record["enabled_events"] != ["*"]:
                service.webhook_endpoints.update(record["id"], disabled=False, enabled_events=["*"])
            return record["id"], record["secret"]
    endpoint = service.webhook_endpoints.create(
        url=url, enabled_events=["*"], description=SERVE_DESCRIPTION
    )
    assert endpoint.secret is not None
    return endpoint.id, endpoint.secret
