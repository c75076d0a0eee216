"""``customer-core serve --timeout-head/--timeout-body-stall/--timeout-body/
--timeout-keep-alive``: the server's request timeouts (``RequestTimeouts``) from the
command line, refused with what is wrong when they are not seconds it can keep to."""

from __future__ import annotations

from typing import Any

import pytest

from customer_core.cli import main
from customer_core.http import RequestTimeouts
from customer_core.http import server as http_server

API_KEY = "sk_test_timeouts"


@pytest.mark.parametrize(
    ("flag", "given", "complaint"),
    [
        ("--timeout-head", "0", "0 is not a finite number of seconds above 0"),
        ("--timeout-head", "soon", "invalid number of seconds: 'soon'"),
        ("--timeout-body-stall", "-1", "-1 is not a finite number of seconds above 0"),
        ("--timeout-body", "inf", "inf is not a finite number of seconds above 0"),
        ("--timeout-body", "nan", "nan is not a finite number of seconds above 0"),
        ("--timeout-keep-alive", "0", "0 is not a whole number of seconds from 1 up"),
        ("--timeout-keep-alive", "1.5", "invalid whole number of seconds: '1.5'"),
    ],
)
def test_a_timeout_that_is_not_seconds_is_refused(
    flag: str, given: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--memory", "--api-key", API_KEY, flag, given])
    assert exited.value.code == 2
    assert f"customer-core serve: error: argument {flag}: {complaint}\n" in capsys.readouterr().err


class _Stopped:
    def run(self, sockets: Any) -> None:
        for listening in sockets:
            listening.close()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], RequestTimeouts(head=20.0, body_stall=20.0, body=120.0, keep_alive=5)),
        (
            ["--timeout-head", "1.5", "--timeout-body-stall", "2.5"]
            + ["--timeout-body", "30", "--timeout-keep-alive", "2"],
            RequestTimeouts(head=1.5, body_stall=2.5, body=30.0, keep_alive=2),
        ),
        (["--timeout-body", "7"], RequestTimeouts(body=7.0)),
    ],
    ids=["defaults", "every flag", "one flag"],
)
def test_the_flags_reach_the_server(
    flags: list[str], expected: RequestTimeouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Any] = []
    real_build_server = http_server.build_server

    def build_server(*args: Any, **kwargs: Any) -> _Stopped:
        config = real_build_server(*args, **kwargs).config  # the server serve would run
        protocol: Any = config.http  # the protocol class, whose requests keep to timeouts
        built.append((kwargs["timeouts"], protocol.timeouts, config.timeout_keep_alive))
        return _Stopped()

    monkeypatch.setattr(http_server, "build_server", build_server)
    assert main(["serve", "--memory", "--api-key", API_KEY, "--port", "0", *flags]) == 0
    assert built == [(expected, expected, expected.keep_alive)]
