"""A throwaway PostgreSQL cluster goes when the process that started it goes, even by
``kill -9``: its watchdog holds a pipe from that process, and stops the cluster and
deletes its directory once the pipe closes (``customer_core.testing.postgres_watchdog``)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest

from customer_core.testing.postgres_server import FAST, PostgresServer, find_binaries
from customer_core.testing.postgres_watchdog import stop_cluster

from .cli_process import gone, wait_for
from .conftest import IN_CI, POSTGRES_MISSING

if POSTGRES_MISSING is not None and not IN_CI:
    pytest.skip(POSTGRES_MISSING, allow_module_level=True)

DEADLINE = 30.0
"""Seconds the cluster may take to go after its owner died (a bound, never a sleep)."""

OWNER = """
import os
import sys
import time

from customer_core.testing.postgres_server import FAST, PostgresServer

server = PostgresServer(FAST).start()
with open(os.path.join(server.data, "postmaster.pid")) as file:
    pid = int(file.readline())
watchdog = getattr(server, "_watchdog", None)
print(pid, server.port, server.directory, watchdog.pid if watchdog else 0, flush=True)
time.sleep(300)  # until the test kills this process
"""


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_the_cluster_stops_and_its_directory_goes_when_its_owner_is_killed() -> None:
    postmaster = watchdog = 0
    directory = ""
    with subprocess.Popen(
        [sys.executable, "-c", OWNER], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as owner:
        try:
            assert owner.stdout is not None
            line = owner.stdout.readline()
            assert line, f"the owner exited early: {owner.communicate(timeout=60)[1]}"
            pid_text, port_text, directory, watchdog_text = line.split()
            postmaster, port, watchdog = int(pid_text), int(port_text), int(watchdog_text)
            assert not gone(postmaster) and not refused(port) and os.path.isdir(directory)

            owner.send_signal(signal.SIGKILL)
            owner.wait(timeout=DEADLINE)

            wait_for(
                lambda: gone(postmaster), "the postmaster to exit after its owner died", DEADLINE
            )
            wait_for(
                lambda: not os.path.exists(directory), "the cluster's directory to go", DEADLINE
            )
            wait_for(lambda: gone(watchdog), "the watchdog to exit when its work is done", DEADLINE)
            assert refused(port)
        finally:
            if owner.poll() is None:
                owner.kill()
            if postmaster and not gone(postmaster):  # the fix failed: leave no orphan behind
                user = "postgres" if os.geteuid() == 0 else "-"
                stop_cluster(find_binaries() or "", os.path.join(directory, "data"), user)
            if watchdog and not gone(watchdog):
                os.kill(watchdog, signal.SIGKILL)
            if directory:
                shutil.rmtree(directory, ignore_errors=True)


def test_remove_stops_the_cluster_deletes_its_directory_and_ends_the_watchdog() -> None:
    server = PostgresServer(FAST).start()
    watchdog = server._watchdog
    assert watchdog is not None and watchdog.poll() is None
    server.stop()  # a stop keeps the watchdog: start() brings the same cluster back
    assert watchdog.poll() is None and os.path.isdir(server.data)
    server.start()
    assert server._watchdog is watchdog and not refused(server.port)
    server.remove()
    assert watchdog.returncode == 0
    assert server._watchdog is None
    assert not os.path.exists(server.directory)
    assert refused(server.port)
