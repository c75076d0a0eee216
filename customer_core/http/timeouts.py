"""How long the HTTP server waits for a request to arrive (``RequestTimeouts``), apart
from the server itself: ``customer-core serve`` reads its flags' defaults and checks
here without the ``server`` extra."""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import check_seconds

__all__ = ["RequestTimeouts"]


@dataclass(frozen=True)
class RequestTimeouts:
    """How long the server waits for a request to arrive, in seconds.

    - ``head``: for a request's whole head (request line and headers), from its first
      byte; for a connection's first request, from the connection's opening.
    - ``body_stall``: the longest pause inside a body: a stalled upload is cut off;
    - ``body``: for the whole body, from the end of the head: a slow but progressing
      upload has this long (1 MiB, the largest body, needs ~9 KiB/s by default), a
      trickle of a byte now and then cannot hold a connection for longer;
    - ``keep_alive``: how long an idle connection is kept between requests (uvicorn's
      ``timeout_keep_alive``, whole seconds).
    """

    head: float = 20.0
    body_stall: float = 20.0
    body: float = 120.0
    keep_alive: int = 5

    def __post_init__(self) -> None:
        for name in ("head", "body_stall", "body"):
            check_seconds(f"RequestTimeouts.{name}", getattr(self, name))
        if isinstance(self.keep_alive, bool) or not isinstance(self.keep_alive, int):
            msg = f"RequestTimeouts.keep_alive must be whole seconds, not {self.keep_alive!r}."
            raise TypeError(msg)
        if self.keep_alive < 1:
            msg = f"RequestTimeouts.keep_alive must be 1 or more, not {self.keep_alive!r}."
            raise ValueError(msg)
