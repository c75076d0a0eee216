"""The ``customer-core`` command: serve the Stripe-compatible API, or work on a data file.

    customer-core serve [--host 127.0.0.1] [--port 12111] [--db PATH | --memory] [--api-key KEY]
    customer-core create -d email=jenny@example.com -d "metadata[plan]=gold"
    customer-core retrieve cus_...
    customer-core update cus_... -d "metadata[plan]="
    customer-core delete cus_...
    customer-core list -d limit=3
    customer-core search -d 'query=email:"jenny@example.com"'
    customer-core export [--db PATH] [-o FILE] [--order newest|oldest]
    customer-core import FILE [--db PATH] [--on-conflict error|skip|replace]

Params use Stripe's form names, like the Stripe CLI's ``-d``. Results print as JSON; an
error prints Stripe's message on stderr and exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import CustomerCoreError, InvalidRequestError
from .http.forms import decode_pairs
from .ids import system_clock
from .service import CustomerService
from .store import MemoryStore, SQLiteStore, Store
from .testing.fakes import FakeClock
from .transfer import export_customers, import_customers

__all__ = ["default_data_path", "main"]

API_KEY_VARIABLE = "CUSTOMER_CORE_API_KEY"
DATA_VARIABLE = "CUSTOMER_CORE_DATA"


def default_data_path() -> Path:
    """``$CUSTOMER_CORE_DATA``, else ``$XDG_DATA_HOME/customer-core/customers.db``."""
    if os.environ.get(DATA_VARIABLE):
        return Path(os.environ[DATA_VARIABLE])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "customer-core" / "customers.db"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="customer-core", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def with_db(command: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
        command.add_argument(
            "--db",
            type=Path,
            metavar="PATH",
            help=f"the data file (default: ${DATA_VARIABLE} or {default_data_path()})",
        )

    serve = commands.add_parser("serve", help="serve the Stripe-compatible HTTP API")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    serve.add_argument("--port", type=int, default=12111)
    store = serve.add_mutually_exclusive_group()
    with_db(store)
    store.add_argument("--memory", action="store_true", help="keep customers in memory only")
    serve.add_argument(
        "--api-key", action="append", help=f"a key clients must send (or set ${API_KEY_VARIABLE})"
    )
    serve.add_argument(
        "--synchronous", choices=["FULL", "NORMAL"], default="FULL", help="SQLite durability"
    )
    tests = serve.add_argument_group("for test suites")
    tests.add_argument("--seed", type=int, help="make ids, prefixes and request ids reproducible")
    tests.add_argument(
        "--frozen-time",
        type=int,
        metavar="UNIX_SECONDS",
        help="the clock stands still at this time (created values, ids)",
    )
    tests.add_argument(
        "--enable-reset",
        action="store_true",
        help="POST /_customer_core/reset (with the API key) puts the data back as it was at "
        "startup; never on a server whose data matters",
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )

    for name, takes_id in [
        ("create", False),
        ("retrieve", True),
        ("update", True),
        ("delete", True),
        ("list", False),
        ("search", False),
    ]:
        command = commands.add_parser(name, help=f"{name} customers in the data file")
        if takes_id:
            command.add_argument("id", help="the customer id (cus_...)")
        command.add_argument(
            "-d",
            "--param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a Stripe param, e.g. -d email=a@b.co -d 'metadata[k]=v'",
        )
        if name in ("create", "update"):
            command.add_argument("--idempotency-key")
        with_db(command)

    export = commands.add_parser("export", help="write every customer to a JSON-lines file")
    export.add_argument("-o", "--output", default="-", help="the file to write (default: stdout)")
    export.add_argument(
        "--order", choices=["newest", "oldest"], default="newest", help="customers' order"
    )
    with_db(export)
    imports = commands.add_parser("import", help="load customers from a JSON-lines file")
    imports.add_argument("file", help="an export, or Stripe customers as JSON ('-': stdin)")
    imports.add_argument(
        "--on-conflict",
        choices=["error", "skip", "replace"],
        default="error",
        help="what to do with an id already in the store (default: stop, import nothing)",
    )
    with_db(imports)
    return parser


def _params(pairs: Sequence[str]) -> dict[str, Any]:
    split = []
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals:
            msg = f"Invalid -d {pair!r}: write KEY=VALUE, as in -d email=jenny@example.com"
            raise InvalidRequestError(msg)
        split.append((name, value))
    return decode_pairs(split)


def _open_store(data: Path | None, synchronous: str = "FULL") -> Store:
    path = data or default_data_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteStore(path, synchronous=synchronous)  # type: ignore[arg-type]


def _serve(arguments: argparse.Namespace) -> int:
    keys = arguments.api_key or (
        [os.environ[API_KEY_VARIABLE]] if os.environ.get(API_KEY_VARIABLE) else []
    )
    if not keys:
        print(
            f"customer-core serve needs an API key: pass --api-key KEY or set {API_KEY_VARIABLE}.\n"
            "Clients send it as Stripe's SDKs do (Authorization: Bearer KEY).",
            file=sys.stderr,
        )
        return 2
    try:
        from .http.server import build_server
    except ImportError:
        print(
            'customer-core serve needs the "server" extra: pip install "customer-core[server]"',
            file=sys.stderr,
        )
        return 2
    store = MemoryStore() if arguments.memory else _open_store(arguments.db, arguments.synchronous)
    where = "memory" if arguments.memory else getattr(store, "path", "")
    if arguments.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: serving on {arguments.host}, reachable from other machines", file=sys.stderr
        )
    print(
        f"customer_core: Stripe customers API on http://{arguments.host}:{arguments.port}/v1/customers (data: {where})",
        file=sys.stderr,
    )
    clock = system_clock if arguments.frozen_time is None else FakeClock(arguments.frozen_time)
    with store:
        service = CustomerService(store, clock=clock, seed=arguments.seed)
        build_server(
            service,
            keys,
            host=arguments.host,
            port=arguments.port,
            log_level=arguments.log_level,
            reset_to=service.snapshot() if arguments.enable_reset else None,
        ).run()
    return 0


def _transfer(arguments: argparse.Namespace) -> int:
    """Run export or import; a summary goes to stderr, never into the exported data."""
    try:
        with _open_store(arguments.db) as store:
            if arguments.command == "export":
                target = sys.stdout.buffer if arguments.output == "-" else arguments.output
                exported = export_customers(store, target, order=arguments.order, progress=True)
                print(
                    f"exported {exported.customers:,} customers, {exported.tax_ids:,} tax IDs, "
                    f"{exported.deleted_customers:,} deleted customers, "
                    f"{exported.invoice_prefixes:,} former invoice prefixes",
                    file=sys.stderr,
                )
                return 0
            source = sys.stdin.buffer if arguments.file == "-" else arguments.file
            result = import_customers(
                CustomerService(store), source, on_conflict=arguments.on_conflict, progress=True
            )
    except KeyboardInterrupt:
        if arguments.command == "import":
            print("interrupted: nothing was imported", file=sys.stderr)
        return 130
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except CustomerCoreError as error:
        print(f"error: {error.message}", file=sys.stderr)
        if arguments.command == "import":
            print("nothing was imported", file=sys.stderr)
        return 1
    print(
        f"imported {result.created:,} new customers ({result.replaced:,} replaced, "
        f"{result.skipped:,} skipped), {result.tax_ids:,} tax IDs, "
        f"{result.deleted_customers:,} deleted customers, "
        f"{result.invoice_prefixes:,} former invoice prefixes",
        file=sys.stderr,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = _parser().parse_args(argv)
    if arguments.command == "serve":
        return _serve(arguments)
    if arguments.command in ("export", "import"):
        return _transfer(arguments)
    try:
        params = _params(arguments.param)
        with _open_store(arguments.db) as store:
            result = CustomerService(store).execute(
                arguments.command,
                params,
                id=getattr(arguments, "id", None),
                idempotency_key=getattr(arguments, "idempotency_key", None),
            )
            print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    except CustomerCoreError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
