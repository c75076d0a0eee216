"""Instructions per SDK call, counted by callgrind: the issue 14 item 5 ratio without the noise.

``python -m benchmarks.sdk_instructions [--calls 300] [--calls-warm 200]`` (needs valgrind)
prints, for a create and a retrieve through the ``stripe_client`` fixture's transport and
through a canned transport (``testing_bench``'s two sides), and for the transport alone
(a create with its Idempotency-Key, as the SDK sends it), the instructions one call takes.
CPU time of the same calls swings with the load of a shared machine by more than a pass of
speed work changes it; instruction counts do not.

Each figure runs this module twice under ``valgrind --tool=callgrind``, with the same
warm-up and then 0 or ``--calls`` counted calls, and divides the difference by
``--calls``: start-up, imports and set-up cancel out. Each run takes a minute or so.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

MODES = ("create", "create canned", "retrieve", "retrieve canned", "transport")
SERVED_MODES = ("create canned served", "retrieve canned served")
"""The canned side with the in-process answer's own text as its body (``testing_bench
--canned-body served``): not run unless named in ``--modes``."""
_COLLECTED = re.compile(r"Collected : (\d+)")


def _calls(mode: str, total: int) -> Callable[[int], object]:
    """The call ``mode`` measures, given its index (0 to ``total - 1``), set up beforehand."""
    import stripe

    from customer_core import CustomerService, MemoryStore
    from customer_core.testing import FakeClock, StripeHTTPClient
    from customer_core.testing.pytest_plugin import API_KEY, NOW, SEED

    from .run import params_for
    from .testing_bench import CannedHTTPClient, canned_body

    service = CustomerService(MemoryStore(), clock=FakeClock(NOW), seed=SEED)
    transport = StripeHTTPClient(service)
    seen: list[tuple[Any, ...]] = []
    request = transport.request

    def recording(*args: Any, **options: Any) -> tuple[str, int, Mapping[str, str]]:
        seen.append(args)  # (method, url, headers, post_data): the create's, kept
        return request(*args, **options)

    transport.request = recording  # type: ignore[method-assign]
    in_process = stripe.StripeClient(API_KEY, http_client=transport)
    params = params_for(0)
    made = in_process.v1.customers.create(params=params)
    body = canned_body(made, "served" if mode.endswith("served") else "compact")
    canned = stripe.StripeClient(
        API_KEY, http_client=CannedHTTPClient(body, made.last_response.headers)
    )
    if mode == "transport":
        method, url, headers, post_data = seen[0]
        keyed = [{**headers, "Idempotency-Key": f"key-{n}"} for n in range(total)]
        return lambda n: request(method, url, keyed[n], post_data)
    client = canned if "canned" in mode else in_process
    if mode.startswith("create"):
        return lambda n: client.v1.customers.create(params=params)
    return lambda n: client.v1.customers.retrieve(made.id)


def child(mode: str, warm: int, counted: int) -> None:
    """What one valgrind run executes: the set-up, ``warm`` calls, then ``counted`` more."""
    call = _calls(mode, warm + counted)
    for n in range(warm + counted):
        call(n)


def instructions(mode: str, warm: int, counted: int) -> int:
    """Instructions of one valgrind run of ``child`` (the whole process)."""
    completed = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "benchmarks.sdk_instructions",
            "--child",
            mode,
            str(warm),
            str(counted),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return collected(completed.stderr)


def collected(valgrind_output: str) -> int:
    """The ``Collected : N`` count callgrind prints when the process ends."""
    found = _COLLECTED.search(valgrind_output)
    if found is None:
        msg = "callgrind printed no 'Collected' count; is valgrind working?"
        raise RuntimeError(msg)
    return int(found.group(1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="counted calls per figure")
    parser.add_argument("--calls-warm", type=int, default=200, help="uncounted calls first")
    parser.add_argument("--modes", nargs="+", choices=MODES + SERVED_MODES, default=list(MODES))
    parser.add_argument(
        "--child", nargs=3, metavar=("MODE", "WARM", "COUNTED"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        mode, warm, counted = args.child
        child(mode, int(warm), int(counted))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: this benchmark counts instructions with it")
    print(f"# instructions per SDK call (callgrind), {time.strftime('%Y-%m-%d %H:%M')}\n")
    print("| call | instructions |\n|---|---:|")
    figures: dict[str, float] = {}
    for mode in args.modes:
        base = instructions(mode, args.calls_warm, 0)
        more = instructions(mode, args.calls_warm, args.calls)
        figures[mode] = (more - base) / args.calls
        print(f"| {mode} | {figures[mode]:,.0f} |", flush=True)
    for call in ("create", "retrieve"):
        if call in figures and f"{call} canned" in figures:
            share = figures[call] - figures[f"{call} canned"]
            ratio = figures[call] / figures[f"{call} canned"]
            print(f"\n{call}: in-process share {share:,.0f}, ratio {ratio:.3f}")
        if call in figures and f"{call} canned served" in figures:
            served = figures[f"{call} canned served"]
            print(
                f"{call} against the served body: share {figures[call] - served:,.0f}, "
                f"ratio {figures[call] / served:.3f}"
            )


if __name__ == "__main__":
    main()
