"""``customer-core serve`` prints its address once it listens: a client that connects as
soon as it reads the line is answered (it waits in the backlog while uvicorn starts),
never refused."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request

from .cli_process import default_sigint, stop

API_KEY = "sk_test_ready"


def test_a_request_sent_the_moment_the_address_is_printed_is_answered() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "customer_core", "serve", "--memory", "--api-key", API_KEY]
        + ["--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        found = re.search(r"on (http://127\.0\.0\.1:\d+)/v1/customers", line)
        assert found, line
        request = urllib.request.Request(
            f"{found[1]}/v1/customers",
            data=b"name=Jenny",
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # no retry on refusal
            assert response.status == 200
    finally:
        stop(process)
