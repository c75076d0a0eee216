"""Webhook delivery in a process of its own: ``customer-core deliver``, and the child
process ``customer-core serve`` starts for a file or database store.

Deliveries in the API's own process (``svc.webhooks.start_delivery()``) share its
interpreter lock: a saturated worker took a third of the API's request rate. In a process
of its own, at a lower CPU priority (``os.nice``), the worker competes only for the cores
and the store's write lock, and API requests win the cores. Several processes (and hosts,
on PostgreSQL) share the outbox safely through its leased claims.

``deliver_until_stopped`` runs a ``DeliveryWorker`` until SIGINT or SIGTERM (or, for a
child, until its parent's pipe closes); the stop sends what is due for up to its stop
wait, then puts the rest back, due at once, as the in-process worker does.
``DeliveryProcess`` is the parent's side: it starts the child when first needed, wakes it
through the pipe whenever this process writes deliveries (so a delivery starts at once,
not at the next poll), starts another (and logs it) when the child dies, and stops it
with SIGTERM. The pipe also ends a child whose parent was killed: it never outlives the
server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..store.base import Store
from .delivery import DeliveryWorker, logger
from .outbox import Webhooks

__all__ = ["DEFAULT_NICE", "DeliveryProcess", "deliver_until_stopped"]

DEFAULT_NICE = 19
"""How much lower a delivery process's CPU priority is (``os.nice``): API requests win."""

_KILL_AFTER = 10.0
"""Seconds past its own stop wait a child gets before it is killed."""
RESTART_DELAY = 1.0
"""Seconds before a child that died is replaced; doubled (up to ``MAX_RESTART_DELAY``)
while each one dies within ``SHORT_LIFE`` seconds of its start, so a child that cannot
run does not spin."""
MAX_RESTART_DELAY = 60.0
SHORT_LIFE = 30.0


def deliver_until_stopped(
    open_store: Callable[[], Store],
    *,
    stop_wait: float,
    watch_stdin: bool = False,
    **options: Any,
) -> int | None:
    """Deliver the webhooks of the store ``open_store()`` opens until SIGINT or SIGTERM
    (the signal is returned) or, with ``watch_stdin``, until stdin closes (None; every
    byte read wakes the worker). The stop sends what is due for up to ``stop_wait``
    seconds, then aborts the requests in flight and puts them back
    (``DeliveryWorker.stop``). ``options`` are ``DeliveryWorker``'s. Call it from the main
    thread.

    The stop signals are caught from before the store is opened until after it is closed:
    a signal at any moment stops the worker and closes the store (on SQLite, the WAL file
    is folded back), never kills the process with the store open."""
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {
        signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with open_store() as store:
            _deliver(store, stop, stop_wait=stop_wait, watch_stdin=watch_stdin, **options)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return received[0] if received else None


def _deliver(
    store: Store, stop: threading.Event, *, stop_wait: float, watch_stdin: bool, **options: Any
) -> None:
    """Run a worker on ``store`` until ``stop`` is set (or the worker dies)."""
    # A process of its own: no API shares its interpreter lock, so no CPU limit (its
    # busy_rate applies while deliveries keep arriving in the store instead), and its
    # sender threads cost no API anything (a sender process would be one more).
    options.setdefault("cpu_share", None)
    options.setdefault("sender_process", False)
    worker = DeliveryWorker(Webhooks(store), **options).start()
    try:
        if watch_stdin:
            threading.Thread(
                target=_watch_stdin,
                args=(worker, stop),
                name="customer_core delivery wake-ups",
                daemon=True,
            ).start()
        # A timeout keeps the wait responsive to signals and notices a dead worker (its
        # store closed under it).
        while not stop.wait(0.5) and worker.running:
            pass
    finally:
        worker.stop(timeout=stop_wait)


def _watch_stdin(worker: DeliveryWorker, stop: threading.Event) -> None:
    while True:
        try:
            chunk = os.read(0, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            stop.set()  # the parent is gone
            return
        worker.wake()


class DeliveryProcess:
    """A delivery child process (``command``, a ``customer-core deliver`` line that watches
    its stdin, with ``environment``): started by ``start()`` or the first ``wake()``,
    replaced when it dies (killed, out of memory: the outbox keeps its deliveries, and a
    new child claims them once their lease ends), stopped by ``stop()``. ``wake`` is cheap
    and never blocks: it may run inside a write."""

    def __init__(
        self,
        command: Sequence[str],
        environment: Mapping[str, str],
        *,
        stop_wait: float,
        restart_delay: float = RESTART_DELAY,
    ) -> None:
        self._command = list(command)
        self._environment = dict(environment)
        self._stop_wait = stop_wait
        self._restart_delay = restart_delay
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopped = False
        self._stopping = threading.Event()
        self.restarts = 0
        """How many children were started in place of one that died."""

    @property
    def pid(self) -> int | None:
        """The child's process id, None before it starts."""
        return None if self._process is None else self._process.pid

    def start(self) -> DeliveryProcess:
        """Start the child unless it runs already (or this was stopped); return self."""
        with self._lock:
            if self._process is None and not self._stopped:
                self._spawn()
                threading.Thread(
                    target=self._watch, name="customer_core delivery process", daemon=True
                ).start()
        return self

    def _spawn(self) -> subprocess.Popen[bytes]:
        """Start a child (the lock held)."""
        process = subprocess.Popen(self._command, stdin=subprocess.PIPE, env=self._environment)
        assert process.stdin is not None
        os.set_blocking(process.stdin.fileno(), False)
        self._process = process
        return process

    def _watch(self) -> None:
        """Wait for each child to end; unless this was stopped, log it and start another
        after a delay that grows while children die young."""
        delay = self._restart_delay
        process = self._process
        while process is not None:
            started = time.monotonic()
            status = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= SHORT_LIFE:
                delay = self._restart_delay
            logger.warning(
                "webhook delivery: the delivery process %d ended (exit status %d); "
                "starting another in %g s",
                process.pid,
                status,
                delay,
            )
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, MAX_RESTART_DELAY)
            with self._lock:
                if self._stopped:
                    return
                self._close_pipe(process)
                process = self._spawn()
                self.restarts += 1
            logger.warning("webhook delivery: delivering in process %d", process.pid)

    def wake(self) -> None:
        """Tell the child deliveries were written (starting it if need be)."""
        process = self._process or self.start()._process
        if process is None or process.stdin is None:
            return
        try:
            os.write(process.stdin.fileno(), b"\n")
        except (BlockingIOError, BrokenPipeError, ValueError, OSError):
            # A full pipe holds wake-ups enough; a child that ended is reported by stop().
            pass

    def stop(self) -> int | None:
        """SIGTERM the child and wait for it to put its deliveries back (killed if it
        hangs past its stop wait); return its exit status, None if it never started."""
        with self._lock:
            self._stopped = True
            self._stopping.set()
            process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            status = process.wait(timeout=self._stop_wait + _KILL_AFTER)
        except subprocess.TimeoutExpired:
            process.kill()
            status = process.wait()
        self._close_pipe(process)
        return status

    @staticmethod
    def _close_pipe(process: subprocess.Popen[bytes]) -> None:
        if process.stdin is not None:
            try:
                process.stdin.close()
            except OSError:
                pass
