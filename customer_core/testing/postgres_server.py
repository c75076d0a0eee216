"""A throwaway PostgreSQL server for tests and benchmarks: ``initdb`` in a temporary
directory, ``pg_ctl start`` on a free 127.0.0.1 port, stopped and removed afterwards.

The binaries come from ``$PATH`` or Debian's ``/usr/lib/postgresql/<version>/bin``. They
refuse to run as root; as root, every command runs as the ``postgres`` system user (the
package creates it) and the directory is handed to that user. The superuser ``postgres``
logs in with ``PASSWORD`` over TCP (scram-sha-256), so tests can also try a wrong one.

A watchdog process (``postgres_watchdog``) holds a pipe from the process that started the
cluster: when that process dies without ``remove()``, even by SIGKILL, the watchdog stops
the cluster and deletes its directory, so no postmaster outlives a killed test run.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any

__all__ = ["FAST", "INSTALL_HINT", "PASSWORD", "PostgresServer", "PostgresStores", "find_binaries"]

PASSWORD = "customer-core-test"
"""The password of the throwaway cluster's superuser ``postgres``."""

INSTALL_HINT = "apt-get install -y postgresql (Debian/Ubuntu) or put initdb and pg_ctl on PATH"

FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
"""Settings for a cluster whose data nobody needs after a crash (tests)."""


def find_binaries() -> str | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (newest Debian version first), or
    None when PostgreSQL is not installed."""

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.split("/")[-2]))

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    on_path = shutil.which("initdb")
    if on_path is not None:
        candidates.append(os.path.dirname(os.path.realpath(on_path)))
    for directory in candidates:
        if all(os.access(os.path.join(directory, name), os.X_OK) for name in ("initdb", "pg_ctl")):
            return directory
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """One PostgreSQL cluster of its own; ``with PostgresServer() as server: server.dsn()``.

    ``settings`` are ``postgres -c`` options on top of loopback-only defaults (pass
    ``FAST`` for tests that need no durability).
    """

    def __init__(self, settings: dict[str, str] | None = None, *, max_connections: int = 200):
        binaries = find_binaries()
        if binaries is None:
            msg = (
                f"PostgreSQL is not installed (no initdb/pg_ctl found); install it: {INSTALL_HINT}"
            )
            raise RuntimeError(msg)
        self.binaries = binaries
        self.settings = {"max_connections": str(max_connections), **(settings or {})}
        self.port = 0
        self.directory = tempfile.mkdtemp(prefix="customer-core-pg-")
        self.data = os.path.join(self.directory, "data")
        self._as_root = os.geteuid() == 0
        self._running = False
        self._watchdog: subprocess.Popen[bytes] | None = None

    def _start_watchdog(self) -> None:
        """Start the watchdog, which stops the cluster and deletes its directory once our
        end of its stdin closes: at ``remove()``, or when this process dies."""
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "postgres_watchdog.py")
        user = "postgres" if self._as_root else "-"
        self._watchdog = subprocess.Popen(
            [sys.executable, "-I", script, self.binaries, self.directory, user],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a kill of our process group must leave it to clean up
        )

    def _stop_watchdog(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is None:
            return
        if watchdog.stdin is not None:
            watchdog.stdin.close()  # it finds nothing left to stop or delete and exits
        try:
            watchdog.wait(timeout=10)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait(timeout=10)

    def _run(self, arguments: Sequence[str], *, timeout: float = 120) -> None:
        command = [os.path.join(self.binaries, arguments[0]), *arguments[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            msg = f"{arguments[0]} failed ({result.returncode}): {result.stderr or result.stdout}"
            raise RuntimeError(msg)

    def start(self) -> PostgresServer:
        """Make the cluster (first time only) and start it; returns self."""
        if self._watchdog is None:
            self._start_watchdog()
        if self._as_root:
            shutil.chown(self.directory, "postgres", "postgres")
        if not os.path.exists(self.data):
            password_file = os.path.join(self.directory, "password")
            with open(password_file, "w") as file:
                file.write(PASSWORD)
            if self._as_root:
                shutil.chown(password_file, "postgres", "postgres")
            self._run(
                [
                    "initdb",
                    "-D",
                    self.data,
                    "-U",
                    "postgres",
                    f"--pwfile={password_file}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            )
        self.port = self.port or _free_port()
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": self.directory,
            **self.settings,
        }
        option_text = " ".join(f"-c {name}={value}" for name, value in options.items())
        self._run(
            [
                "pg_ctl",
                "-D",
                self.data,
                "-l",
                os.path.join(self.directory, "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                option_text,
                "start",
            ]
        )
        self._running = True
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: roll back open transactions; ``immediate``: like a
        crash). ``start()`` brings it back with the same data and port."""
        if self._running:
            self._run(["pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"])
            self._running = False

    def dsn(self, dbname: str = "postgres", *, password: str = PASSWORD) -> str:
        """A libpq URI for ``dbname`` as the superuser."""
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/{dbname}"

    def log(self) -> str:
        """The server's log so far (for failure messages)."""
        try:
            with open(os.path.join(self.directory, "server.log")) as file:
                return file.read()
        except OSError:
            return ""

    def remove(self) -> None:
        """Stop the server and delete its directory."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
            self._stop_watchdog()

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()


class PostgresStores:
    """PostgresStores for tests, all on one server, each in a PostgreSQL schema of its own
    that is emptied (TRUNCATE, much faster than making the tables) and handed out again
    once the store holding it is closed.

    >>> stores = PostgresStores(server)  # doctest: +SKIP
    >>> with stores() as store: ...  # doctest: +SKIP
    """

    def __init__(self, server: PostgresServer, dbname: str = "postgres") -> None:
        self.server = server
        self.dsn = server.dsn(dbname)
        self._handed_out: list[tuple[str, Any]] = []
        self._free: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, **options: Any) -> Any:
        """A new, empty ``PostgresStore`` (``options`` go to its constructor)."""
        from ..store.postgres import PostgresStore

        with self._lock:
            still_open = []
            for schema, store in self._handed_out:
                if store._closed:
                    self._free.append(schema)
                else:
                    still_open.append((schema, store))
            self._handed_out = still_open
            reused = self._free.pop() if self._free else None
            schema = reused or f"test_{len(self._handed_out) + len(self._free) + 1}"
            while any(schema == taken for taken, _ in self._handed_out):
                schema += "_"
        if reused is not None:
            self._empty(schema)
        store = PostgresStore(self.dsn, schema=schema, **options)
        with self._lock:
            self._handed_out.append((schema, store))
        return store

    def _empty(self, schema: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn, autocommit=True) as connection:
            tables = [
                row[0]
                for row in connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s "
                    "AND tablename <> 'schema_version'",
                    (schema,),
                )
            ]
            if tables:
                names = sql.SQL(", ").join(sql.Identifier(schema, table) for table in tables)
                connection.execute("SET lock_timeout = '10s'")
                connection.execute(sql.SQL("TRUNCATE {}").format(names))

    def close_all(self) -> None:
        """Close every store still open."""
        with self._lock:
            handed_out, self._handed_out = self._handed_out, []
        for _, store in handed_out:
            store.close()
