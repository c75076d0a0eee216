"""An argument a subcommand does not take is refused with that subcommand's usage and name
(``customer-core list: error: ...``), not the top-level usage, which says nothing about
the command that was mistyped."""

from __future__ import annotations

import pytest

from customer_core.cli import main


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # each usage on one line, as asserted below


def refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What ``customer-core ARGV`` prints on stderr; it must exit with argparse's 2."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["list", "extra"], "customer-core list [-h] [-d KEY=VALUE] [--db PATH|DSN]"),
        (
            ["events", "list", "extra"],
            "customer-core events list [-h] [-d KEY=VALUE] [--db PATH|DSN]",
        ),
        (
            ["events", "retrieve", "evt_1", "extra"],
            "customer-core events retrieve [-h] [--db PATH|DSN] id",
        ),
        (
            ["import", "customers.jsonl", "extra"],
            "customer-core import [-h] [--on-conflict {error,skip,replace}] [--db PATH|DSN] file",
        ),
        (
            ["export", "extra"],
            "customer-core export [-h] [-o OUTPUT] [--order {newest,oldest}] [--db PATH|DSN]",
        ),
        (
            ["webhooks", "attempts", "extra"],
            "customer-core webhooks attempts [-h] [-d KEY=VALUE] [--db PATH|DSN]",
        ),
        (
            ["retrieve", "cus_1", "extra"],
            "customer-core retrieve [-h] [-d KEY=VALUE] [--db PATH|DSN] id",
        ),
    ],
)
def test_an_extra_argument_prints_the_subcommands_usage(
    argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command = usage.split(" [")[0]
    assert refusal(argv, capsys) == (
        f"usage: {usage}\n{command}: error: unrecognized arguments: extra\n"
    )


@pytest.mark.parametrize("command", ["serve", "deliver"])
def test_serve_and_deliver_name_themselves_too(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    usage, error, end = refusal([command, "extra", "--bogus"], capsys).split("\n")
    assert usage.startswith(f"usage: customer-core {command} [-h] [")
    assert "[--db PATH|DSN" in usage
    assert "COMMAND" not in usage
    assert error == f"customer-core {command}: error: unrecognized arguments: extra --bogus"
    assert end == ""


def test_an_unknown_option_names_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert refusal(["delete", "cus_1", "--bogus"], capsys) == (
        "usage: customer-core delete [-h] [-d KEY=VALUE] [--db PATH|DSN] id\n"
        "customer-core delete: error: unrecognized arguments: --bogus\n"
    )


def test_the_top_level_still_refuses_an_unknown_command_with_its_own_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert refusal(["bogus"], capsys) == (
        "usage: customer-core [-h] [--version] COMMAND ...\n"
        "customer-core: error: argument COMMAND: invalid choice: 'bogus' (choose from "
        "'serve', 'create', 'retrieve', 'update', 'delete', 'list', 'search', 'tax-ids', "
        "'events', 'deliver', 'webhooks', 'export', 'import')\n"
    )
