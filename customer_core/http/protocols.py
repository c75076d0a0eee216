"""uvicorn's HTTP parsers, answering 414 to a request target that is too long (and, with
httptools, 431 to headers over ``MAX_HEADER_BYTES``: h11 stops at 16 KiB by itself).

A URL longer than ``MAX_URL_BYTES`` that reaches the app gets a 414 there. A longer one
may never reach it: h11 stops reading a request head at 16 KiB and httptools buffers the
URL without limit until ``parse_url`` gives up, and uvicorn then answers a bare 400 (or
the client sees the connection close while it is still sending). These subclasses
answer Stripe's JSON 414 instead, and httptools stops buffering at the limit.

After the 414 the server stops sending (a half close) and reads and drops what the client
still sends, for a few seconds and a few MiB, before it closes: closing a socket with
unread data resets the connection, and the reset can reach the client before it has
read the answer.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Literal

from uvicorn.protocols.http.h11_impl import H11Protocol

from .api import MAX_HEADER_BYTES, MAX_URL_BYTES, Response, headers_too_large, url_too_long

__all__ = ["CustomerCoreH11Protocol", "http_protocol"]

HTTP = Literal["auto", "h11", "httptools"]


DRAIN_BYTES = 4 * 1024 * 1024
DRAIN_SECONDS = 5.0


class _AnswersLongURLs(asyncio.Protocol):
    """Sends the 414 (or 431), then drains the connection before closing it."""

    transport: asyncio.Transport
    _dropped = -1  # bytes dropped since the refusal was sent; -1 before

    def _send_url_too_long(self) -> None:
        self._refuse(url_too_long("req_" + secrets.token_hex(7)), "414 URI Too Long")

    def _refuse(self, answer: Response, status_line: str) -> None:
        headers = {**answer.headers, "content-length": str(len(answer.body)), "connection": "close"}
        head = f"HTTP/1.1 {status_line}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        self.transport.write(head.encode("latin-1") + b"\r\n" + answer.body)
        self._dropped = 0
        if self.transport.can_write_eof():
            self.transport.write_eof()
        asyncio.get_running_loop().call_later(DRAIN_SECONDS, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if self._dropped < 0:
            super().data_received(data)
            return
        self._dropped += len(data)
        if self._dropped > DRAIN_BYTES:
            self.transport.close()


class CustomerCoreH11Protocol(_AnswersLongURLs, H11Protocol):
    """h11, answering 414 when the request line alone overflows its buffer."""

    def send_400_response(self, msg: str) -> None:
        pending, _ = self.conn.trailing_data
        line_end = pending.find(b"\n")
        if (line_end if line_end >= 0 else len(pending)) > MAX_URL_BYTES:
            self._send_url_too_long()
        else:
            super().send_400_response(msg)


class _URLTooLong(Exception):
    pass


class _HeadersTooLarge(Exception):
    pass


def _httptools_protocol() -> type[asyncio.Protocol]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class CustomerCoreHttpToolsProtocol(_AnswersLongURLs, HttpToolsProtocol):
        """httptools, refusing a URL or headers as soon as they pass their limits."""

        _url_too_long = False
        _header_bytes = 0
        _headers_too_large = False

        def on_message_begin(self) -> None:
            self._header_bytes = 0
            super().on_message_begin()

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
                answer = headers_too_large("req_" + secrets.token_hex(7))
                self._refuse(answer, "431 Request Header Fields Too Large")
            else:
                super().send_400_response(msg)

    return CustomerCoreHttpToolsProtocol


def http_protocol(http: HTTP = "auto") -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's ``http=`` option: httptools when installed (the
    ``server`` extra installs it), else h11, as uvicorn's own "auto" picks."""
    if http in ("auto", "httptools"):
        try:
            return _httptools_protocol()
        except ImportError:
            if http == "httptools":
                raise
    return CustomerCoreH11Protocol
