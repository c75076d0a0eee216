"""A test-only route: ``POST /_customer_core/reset`` puts the service back as it was.

Only a server started with ``customer-core serve --enable-reset`` has it (the pytest
plugin's ``customer_server`` does, to reset one shared server between tests); it asks
for the API key like every other route. Never enable it on a server whose data matters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..service import CustomerService, Snapshot
from .api import Response, StripeAPI, json_response

__all__ = ["RESET_PATH", "ResettableAPI"]

RESET_PATH = "/_customer_core/reset"


class ResettableAPI(StripeAPI):
    """``StripeAPI`` plus ``POST /_customer_core/reset``, which restores ``snapshot``."""

    def __init__(
        self, service: CustomerService, api_keys: Iterable[str] | None, snapshot: Snapshot
    ) -> None:
        super().__init__(service, api_keys)
        self._snapshot = snapshot

    def handle(
        self,
        method: str,
        path: str,
        query: str | bytes,
        headers: Mapping[str, str],
        body: bytes | str,
    ) -> Response:
        if path != RESET_PATH or method.upper() != "POST":
            return super().handle(method, path, query, headers, body)
        try:
            self._authenticate(headers)
            self.service.restore(self._snapshot)
        except Exception as error:  # a wrong key, the store's failure, a bug: as any route
            return self._failure(error, "POST", path, self.service.ids.request_id())[0]
        # After the restore: the request id is the first of the restored generator.
        request_id = self.service.ids.request_id()
        return json_response(200, {"object": "customer_core.reset", "reset": True}, request_id)
