"""uvicorn's HTTP parsers, answering 414 to a request target that is too long, 431 to
headers over ``MAX_HEADER_BYTES`` (their names and values: the same bound with either
parser, however the head arrives), and Stripe's JSON 400 to a request neither can parse
(uvicorn answers plain text). With h11 they also serve an absolute-form target
(``GET http://host/v1/customers``) by its path, as httptools does.

A URL longer than ``MAX_URL_BYTES`` would never reach the app: h11 stops reading a
request head at ``H11_HEAD_BYTES`` and httptools buffers the URL without limit until
``parse_url`` gives up, and uvicorn then answers a bare 400 (or the client sees the
connection close while it is still sending). These subclasses answer Stripe's JSON 414
as soon as the URL is known to be too long, and httptools stops buffering at the limit.

After a 414 (or 431, 400, 408) the server stops sending (a half close) and reads and drops what the client
still sends, for a few seconds and a few MiB, before it closes: closing a socket with
unread data resets the connection, and the reset can reach the client before it has
read the answer.

They also bound the time a request may take to arrive (``RequestTimeouts``): without
that, a client that sends half a head, or declares a body and stalls, holds its
connection for ever (a slowloris). A partial request that runs out of time gets Stripe's
JSON 408 (when no answer to it has started), a connection that never sent a byte is
closed silently (docs/decisions.md, "Requests that take too long to arrive").
"""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any, ClassVar, Literal

import h11
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.h11_impl import H11Protocol

from .api import (
    MAX_HEADER_BYTES,
    MAX_URL_BYTES,
    Response,
    headers_too_large,
    malformed_request,
    request_timeout,
    url_too_long,
)
from .timeouts import RequestTimeouts

__all__ = ["BoundedRequests", "CustomerCoreH11Protocol", "RequestTimeouts", "http_protocol"]

HTTP = Literal["auto", "h11", "httptools"]


DRAIN_BYTES = 4 * 1024 * 1024
DRAIN_SECONDS = 5.0

H11_HEAD_BYTES = 1024 + MAX_URL_BYTES + 5 * MAX_HEADER_BYTES
"""The most of an incomplete request head h11 holds (its own default, 16 KiB, refused a
head httptools accepts): the longest request target served, 1 KiB for the method and
version, and the most headers served (``MAX_HEADER_BYTES`` of names and values; a line
holds 4 bytes more than its name and value, ``: `` and CRLF, and a name 1 byte or more)."""


def _request_id() -> str:
    """A ``req_`` id for an answer sent before a request reaches the app (which draws its
    own from the service's ids)."""
    return "req_" + secrets.token_hex(7)


class _AnswersLongURLs(asyncio.Protocol):
    """Sends the 414 (or 431), then drains the connection before closing it."""

    transport: asyncio.Transport
    _dropped = -1  # bytes dropped since the refusal was sent; -1 before

    def _send_url_too_long(self) -> None:
        self._refuse(url_too_long(_request_id()), "414 URI Too Long")

    def _refuse(self, answer: Response, status_line: str) -> None:
        headers = {**answer.headers, "content-length": str(len(answer.body)), "connection": "close"}
        head = f"HTTP/1.1 {status_line}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        self.transport.write(head.encode("latin-1") + b"\r\n" + answer.body)
        self._dropped = 0
        self._refused()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        asyncio.get_running_loop().call_later(DRAIN_SECONDS, self.transport.close)

    def _send_headers_too_large(self) -> None:
        answer = headers_too_large(_request_id())
        self._refuse(answer, "431 Request Header Fields Too Large")

    def _refused(self) -> None:
        """Called once a refusal is sent: nothing more of the request is awaited."""

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request its parser refused: Stripe's JSON 400 here, not
        uvicorn's plain text, and the connection drained before it closes."""
        self._refuse(malformed_request(_request_id()), "400 Bad Request")

    def data_received(self, data: bytes) -> None:
        if self._dropped < 0:
            super().data_received(data)
            return
        self._dropped += len(data)
        if self._dropped > DRAIN_BYTES:
            self.transport.close()


_WAIT, _HEAD, _BODY = 0, 1, 2
"""What a connection awaits: nothing (between requests, or a request read whole and being
answered: uvicorn's keep-alive timeout covers the idle time), a head, a body."""


class BoundedRequests(_AnswersLongURLs):
    """Our protocols' common part: it bounds the time a request's head and body take to arrive (``RequestTimeouts``).

    One timer per connection at most, armed only when a chunk leaves a request incomplete
    (a request that arrives in one chunk arms none); when it fires it looks at what the
    connection awaits now and either cuts it off or sets itself for the next deadline.
    """

    timeouts: ClassVar[RequestTimeouts] = RequestTimeouts()
    loop: asyncio.AbstractEventLoop
    flow: FlowControl
    _phase = _HEAD
    _since = 0.0  # loop time the phase began
    _last_byte = -1.0  # loop time the last chunk arrived; -1 before the first
    _timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._since = self.loop.time()
        self._timer = self.loop.call_at(self._since + self.timeouts.head, self._expire)

    def connection_lost(self, exc: Exception | None) -> None:
        self._refused()
        super().connection_lost(exc)

    def _refused(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._phase = _WAIT

    def data_received(self, data: bytes) -> None:
        if self._dropped >= 0:
            super().data_received(data)
            return
        self._last_byte = self.loop.time()
        super().data_received(data)
        if self._dropped >= 0:
            return  # refused: nothing more is parsed
        self._parsed()
        if self._phase != _WAIT and self._timer is None:
            self._timer = self.loop.call_at(self._deadline(), self._expire)

    def _parsed(self) -> None:
        """Update ``_phase`` from the parser after a chunk or an answer (h11)."""

    def _enter(self, phase: int) -> None:
        if phase != self._phase:
            self._phase = phase
            self._since = self._last_byte if self._last_byte >= 0 else self.loop.time()

    def _deadline(self) -> float:
        if self._phase == _HEAD:
            return self._since + self.timeouts.head
        stall_end = max(self._since, self._last_byte) + self.timeouts.body_stall
        return min(stall_end, self._since + self.timeouts.body)

    def _expire(self) -> None:
        self._timer = None
        if self._phase == _WAIT or self.transport.is_closing():
            return
        now = self.loop.time()
        if self._phase == _BODY and self.flow.read_paused:
            # uvicorn stopped reading (the app has not taken what came): not the client's
            # fault, so its pause only counts from when reading resumes.
            self._last_byte = now
        deadline = self._deadline()
        if now < deadline:
            self._timer = self.loop.call_at(deadline, self._expire)
            return
        cycle: Any = getattr(self, "cycle", None)
        if self._phase == _HEAD:
            answerable = self._last_byte >= self._since and (
                cycle is None or cycle.response_complete
            )
            message = (
                "Request headers took too long to arrive: "
                f"the limit is {self.timeouts.head:g} seconds."
            )
        else:
            answerable = cycle is not None and not cycle.response_started
            if now >= self._since + self.timeouts.body:
                message = (
                    "Request body took too long to arrive: "
                    f"the limit is {self.timeouts.body:g} seconds."
                )
            else:
                message = (
                    "Request body stalled: nothing arrived for "
                    f"{self.timeouts.body_stall:g} seconds."
                )
        if answerable:
            answer = request_timeout(_request_id(), message)
            self._refuse(answer, "408 Request Timeout")
        else:
            self._refused()
            self.transport.close()


_ABSOLUTE_FORM = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+")
"""The scheme and authority of an absolute-form target (``http://host:port``)."""


def _origin_form(target: bytes) -> bytes | None:
    """``target`` as the path and query it names: an absolute-form one served by its path
    (RFC 9112 3.2.2, and what httptools does), a fragment dropped (as httptools does); None
    for one that names no path (``http://host``, ``host:80``, ``v1/customers``), which
    httptools refuses as malformed. ``*`` is kept (no route has it)."""
    if not target.startswith(b"/") and target != b"*":
        authority = _ABSOLUTE_FORM.match(target)
        if authority is None or target[authority.end() : authority.end() + 1] != b"/":
            return None
        target = target[authority.end() :]
    return target.partition(b"#")[0] if b"#" in target else target


def _line_length(pending: bytes) -> int:
    """The length of the first line of ``pending`` (all of it when no line ends)."""
    line_end = pending.find(b"\n")
    return line_end if line_end >= 0 else len(pending)


class _H11Connection(h11.Connection):
    """h11's connection, which refuses a request whose headers are over
    ``MAX_HEADER_BYTES`` (h11 bounds only a head still arriving: one that arrived whole
    passed) and hands an absolute-form target on as its path and query.

    ``refusal`` is the status the last refused request calls for: 414 for a request line
    over ``MAX_URL_BYTES`` still unparsed, 431 for headers over the limit or an incomplete
    head over ``H11_HEAD_BYTES``, else 400."""

    refusal = 400

    def next_event(self) -> Any:
        try:
            event = super().next_event()
        except h11.RemoteProtocolError as error:
            if _line_length(self.trailing_data[0]) > MAX_URL_BYTES:
                self.refusal = 414
            else:
                self.refusal = 431 if error.error_status_hint == 431 else 400
            raise
        if not isinstance(event, h11.Request):
            return event
        if len(event.target) > MAX_URL_BYTES:  # refused before its headers, as httptools does
            self.refusal = 414
            raise h11.RemoteProtocolError("Request target too long", error_status_hint=414)
        if sum(len(name) + len(value) for name, value in event.headers) > MAX_HEADER_BYTES:
            self.refusal = 431
            raise h11.RemoteProtocolError("Request headers too large", error_status_hint=431)
        target = _origin_form(event.target)
        if target is None:
            self.refusal = 400
            raise h11.RemoteProtocolError("The request target names no path")
        if target is event.target:
            return event
        return h11.Request(
            method=event.method,
            headers=event.headers,
            target=target,
            http_version=event.http_version,
        )


class CustomerCoreH11Protocol(BoundedRequests, H11Protocol):
    """h11, answering 414 when the request line alone overflows its buffer, and 431 to
    headers over ``MAX_HEADER_BYTES`` (``_H11Connection``)."""

    conn: _H11Connection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _H11Connection(h11.SERVER, max_incomplete_event_size=H11_HEAD_BYTES)

    def _parsed(self) -> None:
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._enter(_BODY)
        elif state is h11.IDLE and (self.conn.trailing_data[0] or self.cycle is None):
            self._enter(_HEAD)
        else:
            self._enter(_WAIT)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request h11 held back is parsed now.
        self._parsed()
        if self._phase != _WAIT and self._timer is None and not self.transport.is_closing():
            self._timer = self.loop.call_at(self._deadline(), self._expire)

    def send_400_response(self, msg: str) -> None:
        if self.conn.refusal == 414:
            self._send_url_too_long()
        elif self.conn.refusal == 431:
            self._send_headers_too_large()
        else:
            super().send_400_response(msg)


class _URLTooLong(Exception):
    pass


class _HeadersTooLarge(Exception):
    pass


def _httptools_protocol() -> type[BoundedRequests]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class CustomerCoreHttpToolsProtocol(BoundedRequests, HttpToolsProtocol):
        """httptools, refusing a URL or headers as soon as they pass their limits."""

        _url_too_long = False
        _header_bytes = 0
        _headers_too_large = False

        def on_message_begin(self) -> None:
            self._header_bytes = 0
            self._enter(_HEAD)
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._enter(_BODY)
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._enter(_WAIT)
            super().on_message_complete()

        def on_header(self, name: bytes, value: bytes) -> None:
            self._header_bytes += len(name) + len(value)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._headers_too_large = True
                raise _HeadersTooLarge
            super().on_header(name, value)

        def on_url(self, url: bytes) -> None:
            super().on_url(url)
            if len(self.url) > MAX_URL_BYTES:
                # httptools turns this into an HttpParserError, which uvicorn answers
                # through send_400_response.
                self._url_too_long = True
                raise _URLTooLong

        def send_400_response(self, msg: str) -> None:
            if self._url_too_long:
                self._send_url_too_long()
            elif self._headers_too_large:
                self._send_headers_too_large()
            else:
                super().send_400_response(msg)

    return CustomerCoreHttpToolsProtocol


def http_protocol(
    http: HTTP = "auto", timeouts: RequestTimeouts | None = None
) -> type[BoundedRequests]:
    """The protocol class for uvicorn's ``http=`` option: httptools when installed (the
    ``server`` extra installs it), else h11, as uvicorn's own "auto" picks; with
    ``timeouts`` other than the defaults, a subclass that keeps to them."""
    protocol: type[BoundedRequests] = CustomerCoreH11Protocol
    if http in ("auto", "httptools"):
        try:
            protocol = _httptools_protocol()
        except ImportError:
            if http == "httptools":
                raise
    if timeouts is None or timeouts == protocol.timeouts:
        return protocol
    return type(protocol.__name__, (protocol,), {"timeouts": timeouts})
