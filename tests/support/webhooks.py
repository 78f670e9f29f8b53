"""A partner's webhook endpoint: a real HTTP server that checks each delivery's signature with
the Standard Webhooks reference library (not the hub's own code) and keeps what it accepted."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tests.support.http import BackgroundServer, QuietHandler


class WebhookReceiver(BackgroundServer):
    """Answers 401 to a bad signature, else the next of `statuses` (then 204), and keeps every
    verified delivery; `on_delivery` runs for each (a partner's system acting on it)."""

    def __init__(
        self,
        secret: str,
        *,
        statuses: list[int] | None = None,
        on_delivery: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.verifier = Webhook(secret)
        self.statuses = list(statuses or [])
        self.on_delivery = on_delivery
        self.delivered: list[dict[str, Any]] = []  # verified, as answered with 2xx
        self.attempts: list[dict[str, str]] = []  # every request's headers
        self.rejected_signatures = 0
        self._lock = threading.Lock()
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        return f"{self.base_url}/hooks/referrals"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {key.lower(): value for key, value in self.headers.items()}
                with receiver._lock:
                    receiver.attempts.append(headers)
                try:
                    payload = receiver.verifier.verify(body, headers)
                except WebhookVerificationError:
                    with receiver._lock:
                        receiver.rejected_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 204
                    if status < 300:
                        receiver.delivered.append(payload | {"webhook-id": headers["webhook-id"]})
                self.send_response(status)
                self.end_headers()
                if status < 300 and receiver.on_delivery:
                    threading.Thread(target=receiver.on_delivery, args=(payload,), daemon=True).start()

        return Handler

    def wait_for(self, type: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for delivery in self.delivered:
                    if delivery["type"] == type:
                        return delivery
            time.sleep(0.1)
        raise AssertionError(f"no verified {type} webhook within {timeout}s: {json.dumps(self.attempts)}")
