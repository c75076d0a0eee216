"""The HTTP floor: a trivial JSON endpoint on the same stack (Starlette objects on uvicorn)."""

from __future__ import annotations

import sys

import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

BODY = b'{"object":"ping","ok":true}'


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    request = Request(scope, receive)
    await request.body()
    await Response(BODY, headers={"content-type": "application/json"})(scope, receive, send)


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
