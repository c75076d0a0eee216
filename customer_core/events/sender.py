"""Sending webhook requests: a small HTTP/1.1 client (``post``), and the helper process
that runs it off the API's interpreter lock (``SenderProcess``).

The client is the standard library's ``socket`` and ``ssl``: one kept-alive connection per
endpoint and sender thread, a request in one send, and of the answer only the status and
its length read (``http.client`` cost twice the CPU per delivery).

A delivery worker in the API's own process (the memory store's, or any
``svc.webhooks.start_delivery()``) shares the interpreter lock with the API: every send and
answer read takes it, and a saturated API hands it back slowly. ``SenderProcess`` starts
this module as a child process (``python -I sender.py``: the standard library only, no
package import, about 0.15 s) and hands it batches of (url, body, signature) over a pipe;
its threads make the requests and send back what came of each, in batches too. An
event can also be handed over as its compact JSON (``send_events``): the child then
pretty-prints and signs it (``signed_body``) itself, with the endpoint's secret handed over
once per endpoint, so the API's process neither encodes nor signs a body. The worker
keeps everything else (claiming, events, the retry schedule, attempts, settling), so the
semantics are the threads' (customer_core.events.delivery).

This module imports nothing but the standard library (and pydantic-core where it can, to
pretty-print a body; the standard library's ``json`` otherwise): the child runs it as a
script.
"""

from __future__ import annotations

import base64
import hmac
import http.client
import json
import marshal
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import IO, Any, Generic, TypeVar
from urllib.parse import SplitResult, quote, unquote, urlsplit

__all__ = [
    "ABORTED",
    "EventJob",
    "LEASE_ENDED",
    "MAX_SENDERS",
    "RECALLED",
    "MAX_RESPONSE_BYTES",
    "SENT",
    "USER_AGENT",
    "Connection",
    "Connections",
    "Lanes",
    "Outcome",
    "SenderProcess",
    "compute_signature",
    "post",
    "pretty_json",
    "signature_header",
    "signed_body",
]

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
"""The User-Agent Stripe sends webhooks with."""
MAX_RESPONSE_BYTES = 64 * 1024
"""A receiver's answer is read up to this many bytes (it is only looked at for its status)."""

MAX_SENDERS = 32
"""Sender threads at most (or ``concurrency``, if more): beyond the ``concurrency`` a
worker starts with, more start while several endpoints have requests waiting, so an
endpoint that answers slowly, or not at all, holds up only its own deliveries."""

Connections = dict[tuple[str, str, int | None], "Connection"]


try:  # the child runs with the interpreter's site-packages, where pydantic-core is
    from pydantic_core import from_json as _from_json
    from pydantic_core import to_json as _to_json

    _PYDANTIC_CORE = True
except ImportError:  # pragma: no cover - pydantic-core is a dependency of customer_core
    _PYDANTIC_CORE = False


def pretty_json(document: bytes) -> bytes:
    """A JSON document pretty-printed as Stripe sends webhook bodies: two-space indent,
    ``": "`` after keys, keys in their order, non-ASCII characters as they are."""
    if _PYDANTIC_CORE:
        # The standard library's encoder drops to pure Python when it indents (about 8x
        # slower); both write the same bytes.
        pretty: bytes = _to_json(_from_json(document), indent=2)
        return pretty
    return json.dumps(json.loads(document), indent=2, ensure_ascii=False).encode()


def compute_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``v1`` signature of ``payload`` sent at ``timestamp``: hex HMAC-SHA256 keyed with
    the endpoint's secret over ``"<timestamp>.<payload>"`` (customer_core.events.signing)."""
    # hmac.digest: OpenSSL's one-shot HMAC, a third of hmac.new's cost for a webhook body.
    return hmac.digest(secret.encode(), b"%d." % timestamp + payload, "sha256").hex()


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value of ``payload`` sent at ``timestamp``."""
    return f"t={timestamp},v1={compute_signature(payload, secret, timestamp)}"


def signed_body(document: bytes, secret: str, timestamp: int) -> tuple[bytes, str]:
    """The webhook body of an event given as compact JSON (pretty-printed), and its
    ``Stripe-Signature`` signed with ``secret`` at ``timestamp``."""
    body = pretty_json(document)
    return body, signature_header(body, secret, timestamp)


def post(
    url: str,
    payload: bytes,
    signature: str,
    timeout: float,
    connections: Connections,
    aborted: threading.Event | None = None,
) -> tuple[int | None, str | None]:
    """POST ``payload`` to ``url``: the status code, or None and what went wrong. A kept-alive
    connection the receiver closed meanwhile is opened again once. Once ``aborted`` is set
    no request is sent (None, "aborted")."""
    try:
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port)
    except ValueError as error:  # a URL stored before endpoints were checked as now
        return None, _describe(error)
    target = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), _SAFE)
    authorization = "" if parts.username is None else _basic_authorization(parts)
    for retry_stale in (True, False):
        connection = connections.get(key)
        reused = connection is not None
        try:
            if connection is None:
                connection = connections[key] = Connection(*key, timeout)
            if aborted is not None and aborted.is_set():
                # Checked once the connection is where abort() finds it: no send after.
                return None, "aborted"
            head = (
                f"POST {target} HTTP/1.1\r\nHost: {connection.host}\r\n"
                f"User-Agent: {USER_AGENT}\r\nContent-Type: application/json; charset=utf-8\r\n"
                f"Stripe-Signature: {signature}\r\n{authorization}"
                "Accept: */*; q=0.5, application/xml\r\n"
                f"Cache-Control: no-cache\r\nContent-Length: {len(payload)}\r\n\r\n"
            )
            status, keep_alive = connection.post(head.encode() + payload)
            if not keep_alive:
                _drop(connections, key)
            return status, None
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
            _drop(connections, key)
            if not (reused and retry_stale):
                return None, _describe(error)
        except TimeoutError:
            _drop(connections, key)
            return None, f"no answer within {timeout:g} s"
        except (OSError, http.client.HTTPException, ValueError) as error:
            _drop(connections, key)
            return None, _describe(error)
    raise AssertionError("unreachable")


def _basic_authorization(parts: SplitResult) -> str:
    """The ``Authorization`` header line for a URL's user and password
    (``https://user:pass@host/``): they are sent as HTTP Basic credentials, as receivers
    that put them in their endpoint's URL expect, never as part of the request target."""
    credentials = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    return f"Authorization: Basic {base64.b64encode(credentials.encode()).decode()}\r\n"


_DIGITS = re.compile(rb"[0-9]+")
_SAFE = "/?&=%:@!$'()*+,;~"
"""Characters a request target keeps as they are (others are percent-encoded)."""


class Connection:
    """One kept-alive HTTP/1.1 connection to a receiver. A request goes out in one send; of
    the answer only the status line and what says where it ends are read (http.client
    parses every header with the email package, a large share of a delivery's time)."""

    __slots__ = ("_pending", "_socket", "host")

    def __init__(self, scheme: str, host: str, port: int | None, timeout: float) -> None:
        default = 443 if scheme == "https" else 80
        sock = socket.create_connection((host, port or default), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        self._socket = sock
        self._pending = b""
        name = f"[{host}]" if ":" in host else host.encode("idna").decode()
        self.host = name if port in (None, default) else f"{name}:{port}"

    def close(self) -> None:
        self._socket.close()

    def abort(self) -> None:
        """End the connection from another thread: a send or a wait for the answer under
        way fails at once. (The plain socket's shutdown, also under TLS: the TLS layer is
        left to the thread using it.)"""
        try:
            socket.socket.shutdown(self._socket, socket.SHUT_RDWR)
        except OSError:
            pass  # closed already

    def post(self, request: bytes) -> tuple[int, bool]:
        """Send a whole request; return the answer's status, and whether the connection
        can carry another request (the answer was read to its end)."""
        self._socket.sendall(request)
        while True:
            status, version, headers = self._read_head()
            if status >= 200:
                break  # 1xx answers are interim: the final one follows
        keep_alive = version == b"HTTP/1.1" and b"close" not in headers.get(b"connection", b"")
        if status in (204, 304):
            return status, keep_alive
        if b"chunked" in headers.get(b"transfer-encoding", b""):
            return status, self._skip_chunked() and keep_alive
        length = headers.get(b"content-length", b"").strip()
        if not _DIGITS.fullmatch(length):
            return status, False  # the body ends when the connection does
        return status, self._skip(int(length)) and keep_alive

    def _fill(self) -> None:
        chunk = self._socket.recv(65536)
        if not chunk:
            msg = "the receiver closed the connection without a complete answer"
            raise http.client.RemoteDisconnected(msg)
        self._pending += chunk

    def _line(self, limit: int = MAX_RESPONSE_BYTES) -> bytes:
        # Lines end with CRLF, or a bare LF, which RFC 9112 (2.2) lets a recipient accept.
        while (end := self._pending.find(b"\n")) < 0:
            if len(self._pending) > limit:
                raise http.client.HTTPException("the receiver's answer has a line too long")
            self._fill()
        line, self._pending = self._pending[:end], self._pending[end + 1 :]
        return line[:-1] if line.endswith(b"\r") else line

    def _read_head(self) -> tuple[int, bytes, dict[bytes, bytes]]:
        status_line = self._line()
        version, _, rest = status_line.partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/") or not _DIGITS.fullmatch(code):
            msg = f"the receiver did not answer in HTTP: {status_line[:80]!r}"
            raise http.client.HTTPException(msg)
        headers: dict[bytes, bytes] = {}
        size = len(status_line)
        while line := self._line():
            size += len(line)
            if size > MAX_RESPONSE_BYTES:
                raise http.client.HTTPException("the receiver's answer has too many headers")
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        return int(code), version, headers

    def _skip(self, length: int) -> bool:
        """Read and drop a body of ``length`` bytes; False (nothing read) if it is too long."""
        if length > MAX_RESPONSE_BYTES:
            return False
        while len(self._pending) < length:
            self._fill()
        self._pending = self._pending[length:]
        return True

    def _skip_chunked(self) -> bool:
        """Read and drop a chunked body; False once it runs over the bound."""
        total = 0
        while True:
            size_text = self._line().split(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise http.client.HTTPException("the receiver sent a bad chunk size") from None
            if size == 0:
                while self._line():  # trailers, up to the empty line
                    pass
                return True
            total += size
            if total > MAX_RESPONSE_BYTES:
                return False
            if not self._skip(size + 2):
                return False


def _drop(connections: Connections, key: tuple[str, str, int | None]) -> None:
    connection = connections.pop(key, None)
    if connection is not None:
        connection.close()


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- the helper process ------------------------------------------------------------------

SENT = "sent"
"""An outcome's kind: the request was made (its status code, or the error, says how it went)."""
LEASE_ENDED = "lease_ended"
"""An outcome's kind: not sent, its lease would have ended before an answer could come."""
ABORTED = "aborted"
"""An outcome's kind: not sent, or cut short, by an abort (not the receiver's failure)."""
RECALLED = "recalled"
"""An outcome's kind: not sent, taken back from its endpoint's queue (``recall``)."""

Job = tuple[Any, str, bytes, str, float]
"""A request to make: (key, url, body, Stripe-Signature, the lease's end on
``time.monotonic``'s clock, shared by the processes of a machine)."""
EventJob = tuple[Any, str, bytes, int, float]
"""An event to deliver: (key, endpoint id, the event's compact JSON, the signature's
timestamp, the lease's end as in ``Job``); the body is made and signed by the sender."""
Endpoints = dict[str, tuple[str, str]]
"""Endpoints by id: (url, secret)."""
Outcome = tuple[Any, str, "int | None", "str | None", int]
"""What came of a job: (key, kind, status code, error, milliseconds the request took)."""

_LENGTH = struct.Struct(">I")


_Queued = TypeVar("_Queued")


class Lanes(Generic[_Queued]):
    """Requests waiting to be sent, a queue (lane) for each endpoint, taken by sender
    threads in turn across the endpoints, no endpoint with more than ``per_lane`` in flight.

    Stripe delivers to each endpoint on its own: a receiver that answers slowly, or never
    (until the timeout), must not hold up the deliveries to the others. One queue for all
    let a hung endpoint's requests take every sender thread in turn."""

    def __init__(self, per_lane: int) -> None:
        self.per_lane = per_lane
        self._waiting: dict[str, deque[_Queued]] = {}
        self._in_flight: dict[str, int] = {}
        self._ready: deque[str] = deque()
        """Lanes with a request waiting and room in flight, in the order they take turns."""
        self._condition = threading.Condition()
        self._closed = False

    def put(self, lane: str, job: _Queued) -> int:
        """Queue ``job`` on ``lane``; return how many senders the waiting and running
        requests could keep busy now (the caller starts one more if it has fewer)."""
        with self._condition:
            waiting = self._waiting.get(lane)
            if waiting is None:
                waiting = self._waiting[lane] = deque()
            waiting.append(job)
            if len(waiting) == 1 and self._in_flight.get(lane, 0) < self.per_lane:
                self._ready.append(lane)
                self._condition.notify()
            # Every lane's, a lane with requests in flight and none waiting too: its
            # senders are busy (perhaps with a receiver that never answers).
            in_flight, queued = self._in_flight, self._waiting
            return sum(
                min(self.per_lane, in_flight.get(name, 0) + len(queued.get(name, ())))
                for name in queued.keys() | in_flight.keys()
            )

    def get(self) -> tuple[str, _Queued] | None:
        """The next request to send and its lane (call ``done(lane)`` when it is answered),
        waiting for one; None once ``close()`` was called and nothing is ready."""
        with self._condition:
            while not self._ready:
                if self._closed:
                    return None
                self._condition.wait()
            lane = self._ready.popleft()
            waiting = self._waiting[lane]
            job = waiting.popleft()
            in_flight = self._in_flight[lane] = self._in_flight.get(lane, 0) + 1
            if not waiting:
                del self._waiting[lane]
            elif in_flight < self.per_lane:
                self._ready.append(lane)  # its next request after the other lanes' turn
            return lane, job

    def done(self, lane: str) -> None:
        """A request of ``lane`` taken by ``get`` was answered (or failed)."""
        with self._condition:
            in_flight = self._in_flight[lane] - 1
            if in_flight:
                self._in_flight[lane] = in_flight
            else:
                del self._in_flight[lane]
            if lane in self._waiting and in_flight == self.per_lane - 1:
                self._ready.append(lane)
                self._condition.notify()

    def take(self, lane: str, count: int) -> list[_Queued]:
        """Take back up to ``count`` of ``lane``'s waiting requests, the newest first."""
        with self._condition:
            waiting = self._waiting.get(lane)
            if not waiting:
                return []
            taken = [waiting.pop() for _ in range(min(count, len(waiting)))]
            if not waiting:
                del self._waiting[lane]
                if lane in self._ready:
                    self._ready.remove(lane)
            return taken

    def clear(self) -> list[_Queued]:
        """Take every request still waiting off its lane (an abort); return them."""
        with self._condition:
            jobs = [job for waiting in self._waiting.values() for job in waiting]
            self._waiting.clear()
            self._ready.clear()
            return jobs

    def close(self) -> None:
        """From now on ``get`` returns None once nothing is ready (the senders end)."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()


def _write_frame(sink: IO[bytes], message: Any) -> None:
    body = marshal.dumps(message)
    sink.write(_LENGTH.pack(len(body)) + body)
    sink.flush()


def _read_frame(source: IO[bytes]) -> Any:
    """The next message, or None at the end of the stream."""
    head = source.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    body = source.read(length)
    if len(body) < length:
        return None
    return marshal.loads(body)


class SenderProcess:
    """The parent's side of a helper process making webhook requests with ``concurrency``
    threads of its own, each request given ``timeout`` seconds to connect and to be
    answered. ``send(jobs)`` hands it requests; ``on_outcomes`` is called (on a thread of
    this object's) with each batch of outcomes, batches at most one each ``gather``
    seconds, and ``on_exit`` once the child is gone (after ``close()``, or if it died: the
    jobs it did not answer may have been sent).

    ``start()`` raises ``OSError`` if the child cannot be started (no interpreter to run
    it, or this module is not a file); the caller then sends from threads of its own."""

    def __init__(
        self,
        concurrency: int,
        timeout: float,
        on_outcomes: Callable[[list[Outcome]], None],
        on_exit: Callable[[], None],
        *,
        gather: float = 0.0,
    ) -> None:
        self._arguments = [str(concurrency), repr(timeout), repr(gather)]
        self._on_outcomes = on_outcomes
        self._on_exit = on_exit
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._write_lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The child's process id, None before it starts."""
        return None if self._process is None else self._process.pid

    def start(self) -> SenderProcess:
        """Start the child and the thread reading its outcomes; return self."""
        script = os.path.abspath(__file__)
        if not sys.executable or not os.path.isfile(script):
            raise OSError("no interpreter or script file to run a sender process with")
        # -I: the standard library only (no script directory, user site or PYTHON* setting).
        self._process = subprocess.Popen(
            [sys.executable, "-I", script, *self._arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._reader = threading.Thread(
            target=self._read_loop, name="customer_core webhook sender process", daemon=True
        )
        self._reader.start()
        return self

    def send(self, jobs: list[Job]) -> None:
        """Hand ``jobs`` to the child; ``OSError`` if it is gone."""
        self._write(("jobs", jobs))

    def send_events(self, endpoints: Endpoints, jobs: list[EventJob]) -> None:
        """Hand ``jobs`` to the child, with the endpoints (url, secret) they go to that it
        was not given before, or that changed; ``OSError`` if it is gone. The child
        pretty-prints and signs each body before sending it."""
        self._write(("events", (endpoints, jobs)))

    def renew(self, leases: list[tuple[Any, float]]) -> None:
        """Move the lease ends of jobs not started yet (by key); ``OSError`` if gone."""
        self._write(("renew", leases))

    def recall(self, counts: list[tuple[str, int]]) -> None:
        """Take back up to ``count`` of the event jobs waiting for each endpoint (by id, the
        newest first), each reported ``RECALLED``; ``OSError`` if gone."""
        self._write(("recall", counts))

    def abort(self) -> None:
        """Tell the child to cut short its requests in flight and to send no more (each is
        reported ``ABORTED``); nothing if it is gone already."""
        try:
            self._write(("abort", None))
        except OSError:
            pass

    def close(self, wait: float) -> int | None:
        """Close the child's input (it ends once its threads let go), kill it if it is
        still there after ``wait`` seconds, and wait for the outcomes it sent; return its
        exit status (None if it never started)."""
        process = self._process
        if process is None:
            return None
        status = self._end(process, wait)
        if self._reader is not None:
            self._reader.join()
        return status

    def _end(self, process: subprocess.Popen[bytes], wait: float) -> int:
        """Close the child's input, and wait for it to end (killed after ``wait`` s)."""
        with self._write_lock:
            try:
                assert process.stdin is not None
                process.stdin.close()
            except OSError:
                pass
        try:
            return process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def _write(self, message: Any) -> None:
        process = self._process
        if process is None or process.stdin is None:
            raise OSError("the sender process is not running")
        with self._write_lock:
            try:
                _write_frame(process.stdin, message)
            except ValueError as error:  # closed already
                raise OSError(str(error)) from None

    def _read_loop(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        try:
            while (outcomes := _read_frame(process.stdout)) is not None:
                self._on_outcomes(outcomes)
        except (OSError, ValueError, EOFError):
            pass  # a child that died mid-frame: as gone
        finally:
            process.stdout.close()
            if process.poll() is None or process.stdin and not process.stdin.closed:
                self._end(process, 1.0)  # it died, or is ending: reap it
            self._on_exit()


def _serve(concurrency: int, timeout: float, gather: float) -> None:
    """The child's side: make the jobs read from stdin on ``concurrency`` threads (more
    while several endpoints have requests waiting, ``concurrency`` at most for each),
    writing their outcomes to stdout in batches at most one each ``gather`` seconds, until
    stdin ends (the parent closed it, or died)."""
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    jobs: Lanes[tuple[Any, str, bytes, str]] = Lanes(concurrency)
    """A lane for each endpoint (its id; a plain job's url)."""
    leases: dict[Any, float] = {}
    endpoints: Endpoints = {}
    aborted = threading.Event()
    outcomes: list[Outcome] = []
    outcomes_lock = threading.Lock()
    outcomes_ready = threading.Event()
    all_answered = threading.Event()
    """Set once every job received has its outcome: the frame need not wait longer."""
    connection_sets: list[Connections] = []
    finished = False
    unanswered = 0
    """Jobs received whose outcome is not reported yet (under outcomes_lock)."""

    def received(count: int) -> None:
        nonlocal unanswered
        with outcomes_lock:
            unanswered += count
            all_answered.clear()

    def report(outcome: Outcome) -> None:
        nonlocal unanswered
        with outcomes_lock:
            outcomes.append(outcome)
            unanswered -= 1
            if unanswered <= 0:
                all_answered.set()
        outcomes_ready.set()

    def send_loop() -> None:
        connections: Connections = {}
        connection_sets.append(connections)
        try:
            while (taken := jobs.get()) is not None:
                lane, (key, url, body, signature) = taken
                lease_end = leases.pop(key, None)
                if aborted.is_set():
                    report((key, ABORTED, None, None, 0))
                elif lease_end is None or time.monotonic() + timeout >= lease_end:
                    report((key, LEASE_ENDED, None, None, 0))
                else:
                    started = time.perf_counter()
                    status, error = post(url, body, signature, timeout, connections, aborted)
                    kind = ABORTED if status is None and aborted.is_set() else SENT
                    duration_ms = round((time.perf_counter() - started) * 1000)
                    report((key, kind, status, error, duration_ms))
                jobs.done(lane)
        finally:
            for connection in connections.values():
                connection.close()

    def write_loop() -> None:
        while True:
            outcomes_ready.wait()
            if gather and not aborted.is_set():
                # Let outcomes gather: the parent wakes (and takes its interpreter lock) once
                # a batch, not once a request; at once when every job is answered.
                all_answered.wait(gather)
            with outcomes_lock:
                batch = outcomes[:]
                del outcomes[:]
                outcomes_ready.clear()
                done = finished
            if batch:
                try:
                    _write_frame(sink, batch)
                except OSError:
                    os._exit(1)  # the parent is gone: nobody to report to
            if done:
                return

    senders: list[threading.Thread] = []
    most_senders = max(concurrency, MAX_SENDERS)

    def queue_job(lane: str, key: Any, url: str, body: bytes, signature: str) -> None:
        wanted = jobs.put(lane, (key, url, body, signature))
        if wanted > len(senders) < most_senders:
            sender = threading.Thread(target=send_loop, daemon=True)
            senders.append(sender)
            sender.start()

    writer = threading.Thread(target=write_loop, daemon=True)
    writer.start()
    while (message := _read_frame(source)) is not None:
        kind, content = message
        if kind == "jobs":
            received(len(content))
            for key, url, body, signature, lease_end in content:
                leases[key] = lease_end
                queue_job(url, key, url, body, signature)
        elif kind == "events":
            changed, events = content
            endpoints.update(changed)
            received(len(events))
            # Bodies made and signed here, the batch at once: the senders' threads do not
            # take turns at the interpreter lock for it.
            for key, endpoint_id, document, timestamp, lease_end in events:
                url, secret = endpoints[endpoint_id]
                try:
                    body, signature = signed_body(document, secret, timestamp)
                except Exception as problem:  # not JSON: an attempt that failed
                    report((key, SENT, None, _describe(problem), 0))
                    continue
                leases[key] = lease_end
                queue_job(endpoint_id, key, url, body, signature)
        elif kind == "renew":
            for key, lease_end in content:
                if key in leases:
                    leases[key] = lease_end
        elif kind == "recall":
            for endpoint_id, count in content:
                for key, _, _, _ in jobs.take(endpoint_id, count):
                    leases.pop(key, None)
                    report((key, RECALLED, None, None, 0))
        elif kind == "abort":
            aborted.set()
            all_answered.set()  # what is answered goes back at once
            for connections in connection_sets:
                for connection in list(connections.values()):
                    connection.abort()
            for key, _, _, _ in jobs.clear():
                report((key, ABORTED, None, None, 0))
    aborted.set()
    all_answered.set()
    for connections in connection_sets:
        for connection in list(connections.values()):
            connection.abort()
    jobs.close()
    deadline = time.monotonic() + timeout
    for thread in senders:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    with outcomes_lock:
        finished = True
    outcomes_ready.set()
    writer.join(timeout=max(0.0, deadline - time.monotonic()))


if __name__ == "__main__":
    # ^C at a terminal, and a SIGTERM sent to the whole process group (``kill -- -PGID``,
    # ``timeout``, systemd's control-group stop), reach this process too: the parent
    # decides when it ends, by closing its stdin (as its death does, SIGKILL included).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _serve(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]))
