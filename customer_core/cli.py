"""The customer-core command: serve the Stripe-compatible API, or work on a data file.

Params use Stripe's form names, like the Stripe CLI's -d. Results print as JSON; an error
prints one line on stderr and exits non-zero. Help texts are plain text: argparse prints
them as written.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import math
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, cast

from . import __version__
from .errors import CustomerCoreError, InvalidRequestError
from .events.delivery import STOP_TIMEOUT
from .events.outbox import RetryPolicy
from .events.process import DEFAULT_NICE, DeliveryProcess, deliver_until_stopped
from .events.webhooks import check_url, masked_url, serve_endpoint
from .http.forms import decode_pairs
from .http.timeouts import RequestTimeouts
from .ids import LATEST_TIME, system_clock
from .outcome import Outcome
from .service import CustomerService
from .store import MemoryStore, SQLiteStore, Store
from .tax_ids import TaxIdOperation
from .testing.fakes import FakeClock
from .transfer import (
    ImportResult,
    TransferError,
    export_customers,
    import_customers,
    import_into_new_file,
)

__all__ = ["default_data_path", "main"]

API_KEY_VARIABLE = "CUSTOMER_CORE_API_KEY"
DATA_VARIABLE = "CUSTOMER_CORE_DATA"
BUSY_TIMEOUT: float = inspect.signature(SQLiteStore).parameters["busy_timeout"].default
"""Seconds a SQLite write waits for another writer by default (``SQLiteStore``'s own)."""
DEFAULT_PORT = 12111  # the server module's default, kept here so --help needs no server extra
DELIVER_POLL_INTERVAL = 0.25
"""Seconds between a delivery process's looks for deliveries no pipe told it about."""
DELIVER_LINGER = 0.05
"""Seconds a busy delivery process lets results gather between two store rounds: fewer,
larger write transactions than the in-process worker's, so it takes the store's write
lock (and, on SQLite FULL, an fsync) from the API less often."""
DELIVER_BATCH_SIZE = 500
DELIVER_BUSY_RATE = 700.0
"""Deliveries a second a delivery process takes at most while deliveries keep arriving (its
API is busy), on a store that counts them (PostgreSQL): above the 500 a second webhooks
need; the rest wait for the API's quiet moments (docs/decisions.md)."""
"""Deliveries a delivery process takes at once, and has in flight at most."""
DELIVER_SYNCHRONOUS = "NORMAL"
"""A delivery process's SQLite durability: its store rounds hold the file's write lock
without an fsync (the API's next FULL commit syncs the WAL they are in), so the API
waits less for that lock; a power loss may undo the last rounds, and a delivery made in
one is made again (delivery is at least once)."""

_DESCRIPTION = "Serve Stripe's Customers API on this machine, or work on its data file directly."
_EPILOG = """\
examples:
  customer-core serve --api-key sk_test_local
  customer-core create -d email=jenny@example.com -d "metadata[plan]=gold"
  customer-core search 'email:"jenny@example.com"'
  customer-core list -d limit=3 | jq -r '.data[].id'

The data file is --db PATH, else $CUSTOMER_CORE_DATA, else
~/.local/share/customer-core/customers.db (created when first needed). A --db or
$CUSTOMER_CORE_DATA path must exist for commands that read it, and its directory must
exist for commands that write it.
"""

# name: (help, example, takes a customer id)
_CUSTOMER_COMMANDS = {
    "create": (
        "create a customer",
        'customer-core create -d email=jenny@example.com -d name="Jenny Rosen" -d "metadata[plan]=gold"',
        False,
    ),
    "retrieve": ("retrieve a customer", "customer-core retrieve cus_NffrFeUfNV2Hib", True),
    "update": (
        "update a customer (metadata merges; an empty value removes a key)",
        'customer-core update cus_NffrFeUfNV2Hib -d name="Jenny R." -d "metadata[plan]="',
        True,
    ),
    "delete": (
        "delete a customer (it stays retrievable as a deleted customer)",
        "customer-core delete cus_NffrFeUfNV2Hib",
        True,
    ),
    "list": (
        "list customers, newest first",
        "customer-core list -d limit=3 -d starting_after=cus_NffrFeUfNV2Hib",
        False,
    ),
    "search": (
        "search customers with Stripe's search query language",
        "customer-core search 'email:\"jenny@example.com\"' -d limit=20",
        False,
    ),
}
_PARAM_EXAMPLES = {
    "retrieve": "-d 'expand[]=tax_ids'",
    "delete": "-d KEY=VALUE (Stripe's delete takes none)",
    "list": "-d limit=3 -d email=a@b.co",
    "search": "-d limit=20 -d page=...",
}
"""The ``-d`` help's example of each customer command (the default: create's)."""
# action: (help, example, the -d help's example), for ``webhooks ACTION`` (an endpoint's
# id after retrieve, update and delete) and ``tax-ids ACTION CUSTOMER_ID`` (a tax ID's id
# after retrieve and delete)
_ENDPOINT_ACTIONS = {
    "create": (
        "register a webhook endpoint; the answer holds its signing secret, shown only here "
        "(params: url, enabled_events[], description, metadata, api_version)",
        "customer-core webhooks create -d url=https://example.com/hooks "
        '-d "enabled_events[]=customer.created" -d "enabled_events[]=customer.updated"',
        "-d url=https://example.com/hooks -d 'enabled_events[]=*'",
    ),
    "list": (
        "webhook endpoints newest first, without their secrets (params: limit, "
        "starting_after, ending_before)",
        "customer-core webhooks list -d limit=3",
        "-d limit=3",
    ),
    "retrieve": (
        "one webhook endpoint by id, without its secret",
        "customer-core webhooks retrieve we_1NGd4fJ2eZvKYlo2",
        "-d KEY=VALUE (retrieve takes expand[] only)",
    ),
    "update": (
        "change a webhook endpoint (params: url, enabled_events[] (replaced), description, "
        "metadata (merged), disabled)",
        "customer-core webhooks update we_1NGd4fJ2eZvKYlo2 -d disabled=true",
        "-d disabled=true -d url=https://example.com/new",
    ),
    "delete": (
        "delete a webhook endpoint; its deliveries not yet made are dropped",
        "customer-core webhooks delete we_1NGd4fJ2eZvKYlo2",
        "-d KEY=VALUE (Stripe's delete takes none)",
    ),
}
_TAX_ID_ACTIONS = {
    "create": (
        "add a tax ID to a customer (params: type, value)",
        "customer-core tax-ids create cus_NffrFeUfNV2Hib -d type=eu_vat -d value=DE123456789",
        "-d type=eu_vat -d value=DE123456789",
    ),
    "list": (
        "a customer's tax IDs, newest first (params: limit, starting_after, ending_before)",
        "customer-core tax-ids list cus_NffrFeUfNV2Hib -d limit=3",
        "-d limit=3",
    ),
    "retrieve": (
        "one of a customer's tax IDs",
        "customer-core tax-ids retrieve cus_NffrFeUfNV2Hib txi_1NuMB12eZvKYlo2CMecoWkZd",
        "-d 'expand[]=customer'",
    ),
    "delete": (
        "delete one of a customer's tax IDs",
        "customer-core tax-ids delete cus_NffrFeUfNV2Hib txi_1NuMB12eZvKYlo2CMecoWkZd",
        "-d KEY=VALUE (Stripe's delete takes none)",
    ),
}
_IDEMPOTENCY_HELP = "run at most once for this key (24 hours)"
REPLAYED = "replayed: the first answer to this idempotency key"
"""The note on stderr when a write's answer is the one saved for its ``--idempotency-key``
by an earlier run (what the HTTP server says with ``Idempotent-Replayed: true``)."""
# Commands that may start a new data file; the others need an existing one.
_WRITES_NEW_FILE = frozenset({"serve", "create", "import"})


class _CommandError(Exception):
    """A mistake on the command line or in its environment: printed as one line."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def default_data_path() -> Path:
    """``$CUSTOMER_CORE_DATA``, else ``$XDG_DATA_HOME/customer-core/customers.db``."""
    if os.environ.get(DATA_VARIABLE):
        return Path(os.environ[DATA_VARIABLE])
    return _default_location()


def _default_location() -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "customer-core" / "customers.db"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that refuses unknown arguments itself, so a subcommand's extra
    argument prints that subcommand's usage (``customer-core list: error: unrecognized
    arguments: extra``); argparse leaves them to the top-level parser, whose usage says
    nothing about the command that was mistyped."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[Any, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def _action(
    actions: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help: str,
    example: str | None = None,
) -> argparse.ArgumentParser:
    """A command's action (``events list``): its help is its description too."""
    if example is None:
        return actions.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
    return actions.add_parser(
        name,
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _command(
    commands: argparse._SubParsersAction[_Parser],
    name: str,
    help: str,
    example: str,
) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(  # its subcommands' parsers are _Parsers too (add_parser's default)
        prog="customer-core",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_db(command: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
        command.add_argument(
            "--db",
            type=_data_location,
            metavar="PATH|DSN",
            help=(
                "the data file, or a PostgreSQL database as postgresql://USER:PASSWORD@HOST/DBNAME "
                f"(default: ${DATA_VARIABLE}, else {_default_location()})"
            ),
        )

    def with_synchronous(
        command: argparse.ArgumentParser,
        default: str = "FULL",
        why: str = "FULL syncs every write to disk",
    ) -> None:
        command.add_argument(
            "--synchronous",
            choices=["FULL", "NORMAL"],
            default=default,
            help=f"SQLite durability: {why} (default: {default})",
        )
        command.add_argument(
            "--busy-timeout",
            type=_seconds,
            default=BUSY_TIMEOUT,
            metavar="SECONDS",
            help="how long a SQLite write waits for another process's write to finish before "
            f"it fails (serve answers 503) (default: {BUSY_TIMEOUT:g})",
        )

    def with_retries(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--retry-delay",
            type=float,
            default=_RETRY.first_delay,
            metavar="SECONDS",
            help="seconds before a failed webhook delivery is tried again, doubled at each "
            f"retry (default: {_RETRY.first_delay:g}; 1 while you fix a receiver)",
        )
        parser.add_argument(
            "--retry-max-delay",
            type=float,
            default=_RETRY.max_delay,
            metavar="SECONDS",
            help=f"the longest wait between two tries (default: {_RETRY.max_delay:g})",
        )

    serve = _command(
        commands,
        "serve",
        "serve the Stripe-compatible HTTP API",
        "customer-core serve --api-key sk_test_local --port 12111",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: 127.0.0.1, this machine only)",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"port to listen on (default: {DEFAULT_PORT})",
    )
    store = serve.add_mutually_exclusive_group()
    with_db(store)
    store.add_argument("--memory", action="store_true", help="keep customers in memory only")
    serve.add_argument(
        "--api-key",
        action="append",
        metavar="KEY",
        help=f"a key clients must send; repeat for several (default: ${API_KEY_VARIABLE})",
    )
    with_synchronous(serve)
    serve.add_argument(
        "--webhook",
        action="append",
        metavar="URL",
        help="deliver every event to URL, signed (an endpoint registered at start, kept "
        "across restarts with the same secret, which is printed); repeatable",
    )
    with_retries(serve)
    tests = serve.add_argument_group("for test suites")
    tests.add_argument("--seed", type=int, help="make ids, prefixes and request ids reproducible")
    tests.add_argument(
        "--frozen-time",
        type=_unix_time,
        metavar="UNIX_SECONDS",
        help="the clock stands still at this time (created values, ids)",
    )
    tests.add_argument(
        "--enable-reset",
        action="store_true",
        help="POST /_customer_core/reset (with the API key) puts the data back as it was at "
        "startup; never on a server whose data matters",
    )
    tests.add_argument(
        "--watch-stdin",
        action="store_true",
        help="stop, as on SIGTERM, when stdin ends: a parent holding a pipe to it takes the "
        "server along when it dies, even by kill -9",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level; debug adds access logs (default: info)",
    )
    timeouts = serve.add_argument_group(
        "request timeouts",
        "how long a request may take to arrive (then 408, and the connection closes), and "
        "an idle connection is kept",
    )
    for field, what in (
        ("head", "for a request's line and headers"),
        ("body_stall", "the longest pause inside a body"),
        ("body", "for a whole body, from the end of its head"),
        ("keep_alive", "how long an idle connection is kept open between requests, whole seconds"),
    ):
        default = getattr(_TIMEOUTS, field)
        timeouts.add_argument(
            "--timeout-" + field.replace("_", "-"),
            type=_whole_seconds if field == "keep_alive" else _positive_seconds,
            default=default,
            metavar="SECONDS",
            help=f"{what} (default: {default:g})",
        )

    def with_params(
        command: argparse.ArgumentParser,
        example: str = "-d email=a@b.co -d 'metadata[plan]=gold'",
    ) -> None:
        command.add_argument(
            "-d",
            "--param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help=f"a Stripe param, as in {example}; repeatable",
        )

    for name, (help, example, takes_id) in _CUSTOMER_COMMANDS.items():
        command = _command(commands, name, help, example)
        if takes_id:
            command.add_argument("id", help="the customer's id (cus_...)")
        if name == "search":
            command.add_argument(
                "query",
                help="a search query, as in 'email:\"jenny@example.com\"' or 'name~\"jen\"'",
            )
        with_params(command, _PARAM_EXAMPLES.get(name, "-d email=a@b.co -d 'metadata[plan]=gold'"))
        if name in ("create", "update"):
            command.add_argument("--idempotency-key", metavar="KEY", help=_IDEMPOTENCY_HELP)
        with_db(command)

    def with_actions(
        actions: argparse._SubParsersAction[argparse.ArgumentParser],
        table: dict[str, tuple[str, str, str]],
        ids: dict[str, list[tuple[str, str, str]]],
    ) -> None:
        """The actions of ``table``, each with the ids ``ids`` gives it (dest, metavar,
        help), Stripe params, the data file, and a create its idempotency key."""
        for name, (help, example, params) in table.items():
            action = _action(actions, name, help, example)
            for dest, metavar, words in ids.get(name, []):
                action.add_argument(dest, metavar=metavar, help=words)
            with_params(action, params)
            if name in ("create", "update"):  # the POSTs (webhooks update too)
                action.add_argument("--idempotency-key", metavar="KEY", help=_IDEMPOTENCY_HELP)
            with_db(action)

    tax_ids = _command(
        commands,
        "tax-ids",
        "add, list, retrieve or delete a customer's tax IDs",
        "customer-core tax-ids create cus_NffrFeUfNV2Hib -d type=eu_vat -d value=DE123456789",
    )
    actions = tax_ids.add_subparsers(dest="tax_ids_command", required=True, metavar="ACTION")
    customer = ("customer", "CUSTOMER_ID", "the customer's id (cus_...)")
    tax_id = ("id", "TAX_ID", "the tax ID's id (txi_...)")
    with_actions(
        actions,
        _TAX_ID_ACTIONS,
        {
            "create": [customer],
            "list": [customer],
            "retrieve": [customer, tax_id],
            "delete": [customer, tax_id],
        },
    )

    events = _command(
        commands,
        "events",
        "list or retrieve the events recorded with customer changes",
        "customer-core events list -d type=customer.updated -d limit=3",
    )
    actions = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    listing = _action(
        actions,
        "list",
        "events newest first (params: limit, type with * wildcards, types[], created, "
        "delivery_success, starting_after, ending_before)",
    )
    with_params(listing, "-d type=customer.updated -d limit=3")
    with_db(listing)
    retrieving = _action(actions, "retrieve", "one event by id")
    retrieving.add_argument("id", help="the event's id (evt_...)")
    with_db(retrieving)

    deliver = _command(
        commands,
        "deliver",
        "deliver webhooks from a data file or database in this process until stopped "
        "(^C or SIGTERM); serve starts one for its store",
        "customer-core deliver --db customers.db",
    )
    with_db(deliver)
    with_synchronous(
        deliver,
        DELIVER_SYNCHRONOUS,
        "FULL syncs every settled delivery to disk; NORMAL leaves it to the next FULL "
        "write of the API on the same file (a power loss may send a delivery again)",
    )
    deliver.add_argument(
        "--nice",
        type=int,
        default=DEFAULT_NICE,
        metavar="N",
        help=f"lower this process's CPU priority by N, so API requests win (default: {DEFAULT_NICE})",
    )
    deliver.add_argument(
        "--concurrency",
        type=int,
        default=4,
        metavar="N",
        help="requests in flight at once (default: 4)",
    )
    deliver.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="seconds to connect and to wait for an answer (default: 10)",
    )
    deliver.add_argument(
        "--poll-interval",
        type=float,
        default=DELIVER_POLL_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between looks for new deliveries (default: {DELIVER_POLL_INTERVAL:g})",
    )
    deliver.add_argument(
        "--batch-size",
        type=int,
        default=DELIVER_BATCH_SIZE,
        metavar="N",
        help=f"deliveries taken from the store at once, and in flight at most (default: {DELIVER_BATCH_SIZE})",
    )
    deliver.add_argument(
        "--linger",
        type=float,
        default=DELIVER_LINGER,
        metavar="SECONDS",
        help="while busy, seconds between two store rounds (each a write transaction): "
        f"larger means fewer, bigger transactions (default: {DELIVER_LINGER:g})",
    )
    deliver.add_argument(
        "--busy-rate",
        type=float,
        default=DELIVER_BUSY_RATE,
        metavar="N",
        help="while deliveries keep arriving (the API is busy), deliver at most N a second; "
        f"0: no limit (default: {DELIVER_BUSY_RATE:g}; PostgreSQL only, elsewhere no limit)",
    )
    deliver.add_argument(
        "--stop-wait",
        type=float,
        default=STOP_TIMEOUT,
        metavar="SECONDS",
        help="on a stop, seconds to keep sending the deliveries due; those still unanswered "
        f"are put back for the next start (default: {STOP_TIMEOUT:g})",
    )
    with_retries(deliver)
    # serve's child: a byte on stdin wakes it, the end of stdin stops it.
    deliver.add_argument("--watch-stdin", action="store_true", help=argparse.SUPPRESS)

    webhooks = _command(
        commands,
        "webhooks",
        "register webhook endpoints, and see what their deliveries got back (an endpoint "
        "that keeps failing shows there)",
        "customer-core webhooks attempts -d endpoint=we_1NGd4fJ2eZvKYlo2 -d limit=5",
    )
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    endpoint = ("id", "ENDPOINT_ID", "the endpoint's id (we_...)")
    with_actions(
        actions, _ENDPOINT_ACTIONS, {name: [endpoint] for name in ("retrieve", "update", "delete")}
    )
    attempts = _action(
        actions,
        "attempts",
        "delivery attempts newest first (params: endpoint, limit, created, "
        "starting_after, ending_before)",
    )
    with_params(attempts, "-d endpoint=we_1NGd4fJ2eZvKYlo2 -d limit=5")
    with_db(attempts)

    export = _command(
        commands,
        "export",
        "write every customer to a JSON-lines file",
        "customer-core export -o customers.jsonl",
    )
    export.add_argument("-o", "--output", default="-", help="the file to write (default: stdout)")
    export.add_argument(
        "--order",
        choices=["newest", "oldest"],
        default="newest",
        help="customers' order (default: newest)",
    )
    with_db(export)
    imports = _command(
        commands,
        "import",
        "load customers from a JSON-lines file",
        "customer-core import customers.jsonl --on-conflict skip",
    )
    imports.add_argument("file", help="an export, or Stripe customers as JSON ('-': stdin)")
    imports.add_argument(
        "--on-conflict",
        choices=["error", "skip", "replace"],
        default="error",
        help="what to do with an id already in the store (default: error, import nothing)",
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


POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# libpq's keyword/value form begins with one of its connection keywords.
_KEYWORD_DSN = re.compile(
    r"\s*(host|hostaddr|port|dbname|user|password|passfile|service|sslmode|connect_timeout"
    r"|application_name|options|target_session_attrs)\s*="
)


def names_postgres(text: str) -> bool:
    """Whether ``--db`` or ``$CUSTOMER_CORE_DATA`` names a PostgreSQL database: a
    ``postgresql://`` URI or libpq's ``host=... dbname=...`` form (never a file path)."""
    return text.startswith(POSTGRES_SCHEMES) or _KEYWORD_DSN.match(text) is not None


def _data_location(text: str) -> Path | str:
    """``--db``: a path, or a PostgreSQL DSN kept as text."""
    return text if names_postgres(text) else Path(text)


_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*(\S+)")


def _schema_of(dsn: str) -> str:
    """The schema a DSN names with libpq's ``options=-csearch_path=NAME`` (as a
    ``PostgresStore(dsn, schema=NAME)`` keeps its tables), else ``public``. The store sets
    the search path itself, so the DSN's would otherwise be overridden, silently."""
    from psycopg import Error
    from psycopg.conninfo import conninfo_to_dict

    try:
        options = str(conninfo_to_dict(dsn).get("options") or "")
    except Error:
        return "public"  # the store names the DSN's problem
    found = _SEARCH_PATH.findall(options)
    if not found:
        return "public"
    schema: str = found[-1]  # as PostgreSQL reads repeated -c options: the last one wins
    if "," in schema or '"' in schema or "\\" in schema:
        msg = f"the DSN's search_path {schema!r} must name one schema, as in options=-csearch_path=crm"
        raise _CommandError(msg)
    return schema


def _open_postgres(dsn: str) -> Store:
    try:
        from .store.postgres import PostgresStore
    except ImportError:
        msg = 'a postgresql:// database needs the "postgres" extra: pip install "customer-core[postgres]"'
        raise _CommandError(msg) from None
    return PostgresStore(dsn, schema=_schema_of(dsn))


def _open_store(
    db: Path | str | None,
    command: str,
    synchronous: str = "FULL",
    busy_timeout: float = BUSY_TIMEOUT,
) -> Store:
    """Open the data file, or the PostgreSQL database a ``postgresql://`` DSN names (in
    ``--db`` or ``$CUSTOMER_CORE_DATA``): the default location is created when first
    needed; a path the user named must exist (or, for commands that write, its directory
    must)."""
    if isinstance(db, str):
        return _open_postgres(db)
    if db is None and names_postgres(os.environ.get(DATA_VARIABLE, "")):
        return _open_postgres(os.environ[DATA_VARIABLE])
    return SQLiteStore(
        _data_file(db, command),
        synchronous=synchronous,  # type: ignore[arg-type]
        busy_timeout=busy_timeout,
    )


def _data_file(db: Path | None, command: str) -> Path:
    """The SQLite data file's path (``--db``, else ``$CUSTOMER_CORE_DATA``, else the default
    location, whose directory is made); refuse one that cannot be opened or created."""
    if db is None and not os.environ.get(DATA_VARIABLE):
        path = _default_location()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # its owner's alone
    else:
        path = db or default_data_path()
        if not path.exists():
            if command not in _WRITES_NEW_FILE:
                msg = f"no data file at {path} (check --db or ${DATA_VARIABLE})"
                raise _CommandError(msg)
            if not path.parent.is_dir():
                msg = f"cannot create the data file {path}: the directory {path.parent} does not exist"
                raise _CommandError(msg)
    return path


def _api_keys(given: list[str] | None) -> list[str]:
    if given is not None:
        if any(not key.strip() for key in given):
            msg = (
                "--api-key is empty: pass the key clients must send, as in --api-key sk_test_local"
            )
            raise _CommandError(msg, status=2)
        return given
    if os.environ.get(API_KEY_VARIABLE, "").strip():
        return [os.environ[API_KEY_VARIABLE]]
    msg = (
        f"serve needs an API key: pass --api-key KEY or set {API_KEY_VARIABLE} "
        "(clients send it as Stripe's SDKs do: Authorization: Bearer KEY)"
    )
    raise _CommandError(msg, status=2)


def _listen(host: str, port: int) -> socket.socket:
    from .http.server import bound_socket

    try:
        listening = bound_socket(host, port)
        # Listen before the address is printed: a client that connects as soon as it reads
        # the line waits in the backlog instead of being refused while uvicorn starts.
        listening.listen(socket.SOMAXCONN)
        return listening
    except (OSError, OverflowError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        msg = f"cannot listen on {host} port {port}: {reason.lower()}"
        raise _CommandError(msg) from None


def _base_url(listening: socket.socket) -> str:
    """The URL a client uses for the socket serve listens on: the port it got (``--port
    0`` picks one) and an IPv6 address in brackets."""
    host, port = listening.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _port(text: str) -> int:
    """``--port``: a TCP port, 0 (any free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (0 to 65535)")
    return value


def _seconds(text: str, *, zero: bool = True) -> float:
    """``--busy-timeout``: a finite number of seconds, 0 or more (above 0 without
    ``zero``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds: {text!r}") from None
    if not (0 <= value if zero else 0 < value) or not math.isfinite(value):
        what = "a number of seconds from 0 up" if zero else "a finite number of seconds above 0"
        raise argparse.ArgumentTypeError(f"{text} is not {what}")
    return value


_TIMEOUTS = RequestTimeouts()
"""The server's request timeouts, the defaults of serve's ``--timeout-...`` flags."""


def _positive_seconds(text: str) -> float:
    """``--timeout-head`` and the body's: a finite number of seconds above 0."""
    return _seconds(text, zero=False)


def _whole_seconds(text: str) -> int:
    """``--timeout-keep-alive``: whole seconds, 1 or more (uvicorn's own flag is whole)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid whole number of seconds: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number of seconds from 1 up")
    return value


def _unix_time(text: str) -> int:
    """``--frozen-time``: whole Unix seconds that ids can hold."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not 0 <= value <= LATEST_TIME:
        msg = f"{value} is not a Unix time from 0 to {LATEST_TIME}"
        raise argparse.ArgumentTypeError(msg)
    return value


class _Terminated(BaseException):
    """SIGTERM arrived while serving: unwinds like Ctrl-C, so the data file is closed."""


def _die_of_sigterm() -> None:
    """End the process by SIGTERM's default action once the stop has unwound (the store is
    closed): its exit status then says so, as whoever sent the signal expects."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.raise_signal(signal.SIGTERM)


class _StopSignals:
    """serve's SIGTERM and SIGINT. The first SIGTERM unwinds like Ctrl-C (``_Terminated``);
    once the server stops, every further SIGTERM or SIGINT is only noted, so the stop (the
    wait for the delivery process, the data file's close) always runs to its end: a second
    signal never cuts it short or raises in the middle of it."""

    def __init__(self) -> None:
        self.stopping = False
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        """Take SIGTERM (SIGINT stays Ctrl-C's KeyboardInterrupt until the stop begins)."""
        self._previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._on_signal)

    def stop_begins(self) -> None:
        """From now on SIGINT and SIGTERM change nothing."""
        self.stopping = True
        if signal.SIGINT not in self._previous:
            self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stopping:
            return
        self.stopping = True
        raise _Terminated

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()


def _serve(arguments: argparse.Namespace) -> int:
    # uvicorn shuts down gracefully on SIGINT and SIGTERM, then raises the signal again
    # once it returns: SIGTERM's default action would end the process before the store
    # below is closed (its WAL left unmerged), and SIGINT would print a traceback.
    signals = _StopSignals() if threading.current_thread() is threading.main_thread() else None
    if signals is not None:
        signals.install()
    try:
        return _serve_until_stopped(arguments, signals)
    except KeyboardInterrupt:
        return 130  # the shell's status for Ctrl-C; uvicorn has said it is shutting down
    except _Terminated:
        _die_of_sigterm()
        raise  # not reached
    finally:
        if signals is not None:
            signals.restore()


def _serve_until_stopped(arguments: argparse.Namespace, signals: _StopSignals | None) -> int:
    keys = _api_keys(arguments.api_key)
    retry = retry_policy(arguments)  # a bad schedule is a usage error before anything starts
    for url in arguments.webhook or ():
        try:
            check_url(url)
        except CustomerCoreError as error:
            raise _CommandError(f"--webhook {url}: {error.message}", status=2) from None
    try:
        from .http.server import build_server, stop_when_stdin_ends
    except ImportError:
        msg = 'serve needs the "server" extra: pip install "customer-core[server]"'
        raise _CommandError(msg) from None
    store = (
        MemoryStore()
        if arguments.memory
        else _open_store(arguments.db, "serve", arguments.synchronous, arguments.busy_timeout)
    )
    clock = system_clock if arguments.frozen_time is None else FakeClock(arguments.frozen_time)
    with store:
        service = CustomerService(store, clock=clock, seed=arguments.seed)
        listening = _listen(arguments.host, arguments.port)
        where = (
            "memory" if arguments.memory else getattr(store, "path", getattr(store, "where", ""))
        )
        if arguments.host not in ("127.0.0.1", "localhost", "::1"):
            print(
                f"warning: serving on {arguments.host}, reachable from other machines",
                file=sys.stderr,
            )
        print(
            f"customer_core: Stripe customers API on {_base_url(listening)}/v1/customers (data: {where})",
            file=sys.stderr,
        )
        named = set()
        for url in dict.fromkeys(arguments.webhook or ()):  # a URL given twice is one endpoint
            endpoint_id, secret = serve_endpoint(service, url)
            named.add(endpoint_id)
            print(
                f"customer_core: events are delivered to {masked_url(url)} ({endpoint_id})",
                file=sys.stderr,
            )
            # The words of `stripe listen`, which scripts look for.
            print(f"> Ready! Your webhook signing secret is {secret} (^C to quit)", file=sys.stderr)
        _tell_other_endpoints(service, named)
        reset_to = service.snapshot() if arguments.enable_reset else None
        stop_delivering = _start_delivery(service, arguments, retry)
        try:
            server = build_server(
                service,
                keys,
                host=arguments.host,
                port=arguments.port,
                log_level=arguments.log_level,
                reset_to=reset_to,
                timeouts=RequestTimeouts(
                    head=arguments.timeout_head,
                    body_stall=arguments.timeout_body_stall,
                    body=arguments.timeout_body,
                    keep_alive=arguments.timeout_keep_alive,
                ),
            )
            if arguments.watch_stdin:
                stop_when_stdin_ends(server)
            server.run(sockets=[listening])
        finally:
            if signals is not None:
                signals.stop_begins()
            stop_delivering()
    return 0


_ENDPOINTS_TOLD = 10


def _tell_other_endpoints(service: CustomerService, named: set[str]) -> None:
    """Name the enabled endpoints the store holds besides this run's ``--webhook`` ones
    (created over the API, or by an earlier ``serve --webhook``): this server delivers to
    them too, and a user who moved their receiver should not be surprised."""
    page = service.webhook_endpoints.list(limit=100)
    others = [e for e in page.data if e.status == "enabled" and e.id not in named]
    for endpoint in others[:_ENDPOINTS_TOLD]:
        print(
            f"customer_core: events are also delivered to {masked_url(endpoint.url)} "
            f"({endpoint.id}, registered earlier; DELETE /v1/webhook_endpoints/{endpoint.id} "
            "stops it)",
            file=sys.stderr,
        )
    if len(others) > _ENDPOINTS_TOLD or page.has_more:
        print(
            "customer_core: and to more endpoints registered earlier (GET /v1/webhook_endpoints)",
            file=sys.stderr,
        )


def _start_delivery(
    service: CustomerService, arguments: argparse.Namespace, retry: RetryPolicy
) -> Any:
    """Deliver the server's webhooks; return what stops it. Endpoints may also come through
    the API, so every server delivers. A file or database store gets a delivery process of
    its own (started when first needed; see customer_core.events.process); the memory store
    shares nothing across processes and keeps the worker in the server's process (its
    requests made by a sender process, customer_core.events.sender).
    A stop gives requests in flight a moment, then keeps the unanswered ones for next time."""
    store = service.store
    if isinstance(store, MemoryStore):
        worker = service.webhooks.start_delivery(retry=retry)
        return lambda: worker.stop(timeout=STOP_TIMEOUT)
    # The child finds its store in the environment: a database password stays out of ps.
    location = store.path if isinstance(store, SQLiteStore) else arguments.db
    environment = {**os.environ, DATA_VARIABLE: str(location or os.environ[DATA_VARIABLE])}
    command = [sys.executable, "-m", "customer_core", "deliver", "--watch-stdin"]
    command += ["--stop-wait", str(STOP_TIMEOUT), "--busy-timeout", str(arguments.busy_timeout)]
    command += ["--retry-delay", repr(retry.first_delay)]
    command += ["--retry-max-delay", repr(retry.max_delay)]
    process = DeliveryProcess(command, environment, stop_wait=STOP_TIMEOUT)
    remove_listener = service.webhooks.add_listener(process.wake)
    if store.webhook_endpoint_scan(limit=1) or store.outbox_next_due() is not None:
        process.start()

    def stop() -> None:
        remove_listener()
        process.stop()

    return stop


_RETRY = RetryPolicy()
"""The default retry schedule, whose delays the ``--retry-*`` options change."""


def retry_policy(arguments: argparse.Namespace) -> RetryPolicy:
    """The retry schedule of a ``serve`` or ``deliver`` command line (a usage error if bad)."""
    if not 0 <= arguments.retry_delay <= arguments.retry_max_delay:
        msg = "--retry-delay must be >= 0 and at most --retry-max-delay"
        raise _CommandError(msg, status=2)
    return RetryPolicy(first_delay=arguments.retry_delay, max_delay=arguments.retry_max_delay)


def worker_options(arguments: argparse.Namespace) -> dict[str, Any]:
    """The ``DeliveryWorker`` options of a parsed ``customer-core deliver`` command line
    (the delivery benchmark runs the same worker)."""
    return {
        "concurrency": arguments.concurrency,
        "timeout": arguments.timeout,
        "poll_interval": arguments.poll_interval,
        "batch_size": arguments.batch_size,
        "linger": arguments.linger,
        "busy_rate": arguments.busy_rate or None,
        "retry": retry_policy(arguments),
    }


def _deliver(arguments: argparse.Namespace) -> int:
    """``customer-core deliver``: a delivery worker in this process until stopped."""
    if (
        min(arguments.concurrency, arguments.batch_size) < 1
        or min(arguments.timeout, arguments.poll_interval) <= 0
        or min(arguments.linger, arguments.busy_rate) < 0
    ):
        msg = (
            "deliver needs --concurrency and --batch-size >= 1, --timeout and "
            "--poll-interval > 0, --linger and --busy-rate >= 0"
        )
        raise _CommandError(msg, status=2)
    if arguments.nice > 0:
        os.nice(arguments.nice)
    logging.basicConfig(format="customer_core: %(message)s")

    def open_store() -> Store:
        store = _open_store(arguments.db, "deliver", arguments.synchronous, arguments.busy_timeout)
        where = getattr(store, "path", getattr(store, "where", ""))
        print(
            f"customer_core: delivering webhooks from {where} in process {os.getpid()} "
            "(^C to stop)",
            file=sys.stderr,
            flush=True,
        )
        return store

    try:
        received = deliver_until_stopped(
            open_store,
            stop_wait=arguments.stop_wait,
            watch_stdin=arguments.watch_stdin,
            **worker_options(arguments),
        )
    except KeyboardInterrupt:  # before the worker's handlers were set: nothing in flight
        return 130
    if received == signal.SIGTERM:
        _die_of_sigterm()
    return 130 if received == signal.SIGINT else 0


def _transfer(arguments: argparse.Namespace) -> int:
    """Run export or import; a summary goes to stderr, never into the exported data. An
    import into a data file that does not exist builds it beside its place and puts it
    there when complete (``import_into_new_file``): a failed one leaves no file."""
    return _run_transfer(arguments, _new_data_file(arguments))


def _new_data_file(arguments: argparse.Namespace) -> Path | None:
    """The SQLite data file an import is about to create, or None (an export, a
    PostgreSQL database, or a file that exists)."""
    if arguments.command != "import" or isinstance(arguments.db, str):
        return None
    if arguments.db is None:
        if names_postgres(os.environ.get(DATA_VARIABLE, "")):
            return None
        path = default_data_path()
    else:
        path = arguments.db
    return None if os.path.lexists(path) else path


def _run_transfer(arguments: argparse.Namespace, new_file: Path | None) -> int:
    """SIGTERM (``kill``, ``timeout``, a service manager's stop) ends an import or export
    as Ctrl-C does: it unwinds, so the store is closed and a partial file removed, says so,
    then dies of the signal as its sender expects."""
    if threading.current_thread() is not threading.main_thread():
        return _import_or_export(arguments, new_file)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _import_or_export(arguments, new_file)
    except _Terminated:
        _die_of_sigterm()
        raise  # not reached
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminate(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the unwinding
    raise _Terminated


def _import_or_export(arguments: argparse.Namespace, new_file: Path | None) -> int:
    given: str = getattr(arguments, "file", "")  # import's file ("-": stdin)
    source: IO[bytes] | str = sys.stdin.buffer if given == "-" else given
    try:
        if new_file is not None:
            result = import_into_new_file(
                source,
                _data_file(arguments.db, "import"),
                on_conflict=arguments.on_conflict,
                progress=True,
            )
        else:
            with _open_store(arguments.db, arguments.command) as store:
                if arguments.command == "export":
                    return _export(arguments, store)
                result = import_customers(
                    CustomerService(store),
                    source,
                    on_conflict=arguments.on_conflict,
                    progress=True,
                    exclusive=True,
                )
    except (KeyboardInterrupt, _Terminated) as stop:
        if sys.stderr.isatty():
            print(file=sys.stderr)  # end the progress line (and the terminal's ^C)
        if arguments.command == "import":
            print("interrupted: nothing was imported", file=sys.stderr)
        if isinstance(stop, _Terminated):
            raise
        return 130
    except BrokenPipeError:
        raise  # main ends quietly
    except OSError as error:
        print(f"error: {_file_problem(error, arguments)}", file=sys.stderr)
        return 1
    except CustomerCoreError as error:
        message = error.command_line_message if isinstance(error, TransferError) else error.message
        print(f"error: {message}", file=sys.stderr)
        if arguments.command == "import":
            print("nothing was imported", file=sys.stderr)
        return 1
    print(_import_summary(result), file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _export(arguments: argparse.Namespace, store: Store) -> int:
    target = sys.stdout.buffer if arguments.output == "-" else arguments.output
    exported = export_customers(store, target, order=arguments.order, progress=True)
    print(
        f"exported {_counted(exported.customers, 'customer')}, "
        f"{_counted(exported.tax_ids, 'tax ID')}, "
        f"{_counted(exported.deleted_customers, 'deleted customer')}, "
        f"{_counted(exported.invoice_prefixes, 'former invoice prefix')}",
        file=sys.stderr,
    )
    return 0


def _import_summary(result: ImportResult) -> str:
    """``imported 2 new customers (0 replaced, 1 skipped), ...``: each kind of line's
    count, and what was left as the store held it when anything was."""

    def kind(count: int, noun: str, replaced: int = 0, skipped: int = 0) -> str:
        told = [f"{replaced:,} replaced"] if replaced else []
        told += [f"{skipped:,} already there"] if skipped else []
        return _counted(count, noun) + (f" ({', '.join(told)})" if told else "")

    return (
        f"imported {_counted(result.created, 'new customer')} ({result.replaced:,} replaced, "
        f"{result.skipped:,} skipped), "
        + ", ".join(
            [
                kind(result.tax_ids, "tax ID", result.tax_ids_replaced, result.tax_ids_skipped),
                kind(
                    result.deleted_customers,
                    "deleted customer",
                    skipped=result.deleted_customers_skipped,
                ),
                kind(
                    result.invoice_prefixes,
                    "former invoice prefix",
                    skipped=result.invoice_prefixes_skipped,
                ),
            ]
        )
    )


def _counted(count: int, noun: str) -> str:
    """``1 customer``, ``2 customers``, ``1,000 former invoice prefixes``."""
    if count != 1:
        noun += "es" if noun.endswith("x") else "s"
    return f"{count:,} {noun}"


def _file_problem(error: OSError, arguments: argparse.Namespace) -> str:
    """An export's or import's file error in words: which file, and why (no errno)."""
    exporting = arguments.command == "export"
    given = os.fspath(arguments.output if exporting else arguments.file)
    path = error.filename
    if path is None:
        path = given
    reason = (error.strerror or str(error)).lower()
    return f"cannot {'write' if exporting else 'read'} {path}: {reason}"


def _events_command(arguments: argparse.Namespace) -> int:
    try:
        with _open_store(arguments.db, "list") as store:
            events = CustomerService(store).events
            if arguments.events_command == "list":
                result: Any = events.list(**_params(arguments.param))
            else:
                result = events.retrieve(arguments.id)
    except CustomerCoreError as error:
        print(_request_error(error), file=sys.stderr)
        return 1
    _show(result.to_json(indent=2))
    return 0


def _customer_command(arguments: argparse.Namespace) -> int:
    try:
        params = _params(arguments.param)
        if arguments.command == "search":
            if "query" in params:
                msg = "give the query once, as the argument: customer-core search 'name:\"jenny\"'"
                raise _CommandError(msg)
            params["query"] = arguments.query
        with _open_store(arguments.db, arguments.command) as store:
            outcome = CustomerService(store).perform(
                arguments.command,
                params,
                id=getattr(arguments, "id", None),
                idempotency_key=getattr(arguments, "idempotency_key", None),
            )
            result = outcome.result
    except CustomerCoreError as error:
        return _failed(error)
    _tell_replayed(outcome)
    done = _DONE.get(arguments.command)
    if done is not None:
        done = f"customer {result.id} was {done}"  # type: ignore[union-attr]
    _show(result.to_json(indent=2), done)
    return 0


def _object_command(arguments: argparse.Namespace) -> int:
    """``webhooks ACTION`` and ``tax-ids ACTION``: the service's calls for the same
    requests over HTTP (``customer_core.http.api``), the answer printed as its body."""
    action = (
        arguments.tax_ids_command if arguments.command == "tax-ids" else arguments.webhooks_command
    )
    # An endpoint may be registered before the first customer: its create may start a file.
    # No other action may (a tax ID needs a customer, which a new file does not hold).
    opening = (
        "create"
        if (arguments.command, action) == ("webhooks", "create")
        else f"{arguments.command} {action}"
    )
    try:
        params = _params(arguments.param)
        with _open_store(arguments.db, opening) as store:
            outcome = _perform(CustomerService(store), arguments, action, params)
            body = outcome.to_json()
    except CustomerCoreError as error:
        return _failed(error)
    _tell_replayed(outcome)
    done = _DONE.get(action)
    if done is not None:
        noun = "tax ID" if arguments.command == "tax-ids" else "webhook endpoint"
        done = f"{noun} {outcome.result.id} was {done}"  # type: ignore[union-attr]
    _show(body, done)
    return 0


def _perform(
    service: CustomerService, arguments: argparse.Namespace, action: str, params: dict[str, Any]
) -> Outcome:
    key = getattr(arguments, "idempotency_key", None)
    if arguments.command == "tax-ids":
        return service.tax_ids.perform(
            cast(TaxIdOperation, action),
            params,
            customer=arguments.customer,
            id=getattr(arguments, "id", None),
            idempotency_key=key,
        )
    if action == "attempts":
        return Outcome(service.webhooks.attempts(**params))
    endpoints = service.webhook_endpoints
    if action == "create":
        return endpoints.perform_create(params, idempotency_key=key)
    if action == "update":
        return endpoints.perform_update(arguments.id, params, idempotency_key=key)
    if action == "list":
        return Outcome(endpoints.list(**params))
    return Outcome(getattr(endpoints, action)(arguments.id, **params))


def _failed(error: CustomerCoreError) -> int:
    """A request's error on stderr (and whether it is the one saved for the idempotency
    key); the exit status of a failed request."""
    print(_request_error(error), file=sys.stderr)
    if error.replayed:
        print(REPLAYED, file=sys.stderr)
    return 1


def _tell_replayed(outcome: Outcome) -> None:
    if outcome.replayed:
        print(REPLAYED, file=sys.stderr)


def _request_error(error: CustomerCoreError) -> str:
    """A request's error as one line: Stripe's message, after the param it is about when
    the message does not name it (``error: limit: This value must be ...``, as import
    errors read), since the CLI shows no error body. A 404 is about the id argument."""
    param = error.param
    if param is None or error.http_status == 404 or param in error.message:
        return f"error: {error.message}"
    return f"error: {param}: {error.message}"


def _show(body: bytes, done: str | None = None) -> None:
    """Write a command's answer to stdout; a full disk or a closed file there is a
    one-line error, not a traceback (a closed pipe ends quietly in ``main``). ``done``
    says what a write changed, so that the error does not read as if nothing was."""
    try:
        print(body.decode())
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        # What stdout still buffers would fail again when Python flushes it at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        reason = (error.strerror or str(error)).lower()
        if done is None:
            raise _CommandError(f"cannot write the output: {reason}") from None
        raise _CommandError(f"{done}, but its answer could not be written: {reason}") from None


_DONE = {"create": "created", "update": "updated", "delete": "deleted"}
"""The customer commands that write, and what to call what they did."""


def _answers_on_stdout(arguments: argparse.Namespace) -> bool:
    """Whether the command's answer goes to stdout (``serve``, ``deliver`` and ``import``
    only report there, or on stderr; ``export -o FILE`` writes the file)."""
    if arguments.command in ("serve", "deliver", "import"):
        return False
    return bool(arguments.command != "export" or arguments.output == "-")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = _parser().parse_args(argv)
    if sys.stdout is None:  # started with stdout closed (>&-)
        if _answers_on_stdout(arguments):
            print("error: the standard output is closed: nothing was done", file=sys.stderr)
            return 1
        # serve, deliver and import only report there: the reports go nowhere, as asked
        # (uvicorn's logging setup, for one, needs a stdout to look at).
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (kept for the process's life)
    try:
        if arguments.command == "serve":
            status = _serve(arguments)
        elif arguments.command == "deliver":
            status = _deliver(arguments)
        elif arguments.command in ("export", "import"):
            status = _transfer(arguments)
        elif arguments.command == "events":
            status = _events_command(arguments)
        elif arguments.command in ("webhooks", "tax-ids"):
            status = _object_command(arguments)
        else:
            status = _customer_command(arguments)
        sys.stdout.flush()
    except _CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.status
    except CustomerCoreError as error:  # serve's data file
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Ctrl-C (a write waiting for another process's lock, a long list): one line, the
        # shell's status for it. A write not committed yet was rolled back with its
        # transaction; one committed before the signal stays.
        if sys.stderr.isatty():
            print(file=sys.stderr)  # after the terminal's ^C
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader stopped reading (``| head``): end quietly, with the status of a process
        # killed by SIGPIPE, and keep Python from complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return status


if __name__ == "__main__":
    sys.exit(main())
