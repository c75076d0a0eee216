"""The watchdog of one throwaway PostgreSQL cluster (``PostgresServer``): it waits for
its stdin, a pipe only the owning process holds, to close, then stops the cluster
(``pg_ctl stop -m immediate``) and deletes its directory. A pipe closes even when the
owner dies by SIGKILL, which no handler of the owner sees; the postmaster, in a session
of its own (pg_ctl's setsid), would otherwise run on forever.

Run as a script by its path, ``python postgres_watchdog.py BINARIES DIRECTORY USER``
(USER ``-`` for the current one), so it imports nothing but the standard library.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys


def wait_for_end_of_input() -> None:
    """Return once stdin is at its end (every holder of the pipe's other end is gone)."""
    try:
        while os.read(0, 4096):
            pass  # a byte means nothing here: only the end does
    except OSError:
        pass  # stdin closed or unreadable: the owner's side is gone as well


def stop_cluster(binaries: str, data: str, user: str) -> None:
    """``pg_ctl stop -m immediate`` when a postmaster runs on ``data`` (its pid file is
    there); a stopped cluster, or one deleted already, needs nothing."""
    if not os.path.exists(os.path.join(data, "postmaster.pid")):
        return
    command = [os.path.join(binaries, "pg_ctl"), "-D", data, "-m", "immediate", "-w"]
    command += ["-t", "30", "stop"]
    if user != "-":
        command = ["runuser", "-u", user, "--", *command]
    subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)


def main(arguments: list[str]) -> None:
    binaries, directory, user = arguments
    # A terminal's Ctrl-C or a CI's SIGTERM to the group must not end the watchdog
    # before its owner: the owner's own stop (or its death) is what ends it.
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_IGN)
    wait_for_end_of_input()
    try:
        stop_cluster(binaries, os.path.join(directory, "data"), user)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
