"""A real HTTP server playing a Twilio-compatible SMS provider: it takes messages (checking
basic auth), can be down for a while, and signs the callbacks it makes to the hub the way the
provider does (written here from the provider's documentation, not with the hub's code)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

import requests

from tests.support.http import BackgroundServer, QuietHandler

ACCOUNT_SID = "ACtest0123456789"
AUTH_TOKEN = "provider-auth-token-0123456789"
SENDER = "+447700900000"


@dataclass(frozen=True)
class Sent:
    sid: str
    at: float  # time.monotonic() when the provider took it
    to: str
    sender: str
    body: str
    status_callback: str


class SmsProvider(BackgroundServer):
    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.refused = 0  # requests answered 503 while down
        self.down = False
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        return self.base_url

    def env(self) -> dict[str, str]:
        """The hub's settings for this provider."""
        return {
            "HUB_SMS_URL": self.url,
            "HUB_SMS_ACCOUNT_SID": ACCOUNT_SID,
            "HUB_SMS_AUTH_TOKEN": AUTH_TOKEN,
            "HUB_SMS_FROM": SENDER,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                if self.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                    return self.answer(404, {"message": "no such resource"})
                if self.headers.get("Authorization") != expected_auth:
                    return self.answer(401, {"message": "authenticate"})
                with provider._lock:
                    if provider.down:
                        provider.refused += 1
                        return self.answer(503, {"message": "service unavailable"})
                    sid = f"SM{next(provider._ids):032d}"
                    provider.sent.append(
                        Sent(
                            sid,
                            time.monotonic(),
                            form["To"],
                            form["From"],
                            form["Body"],
                            form.get("StatusCallback", ""),
                        )
                    )
                self.answer(201, {"sid": sid, "status": "queued"})

            def answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def to(self, phone: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.to == phone]

    def wait_for(self, phone: str, contains: str, timeout: float = 30) -> Sent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for sent in self.to(phone):
                if contains in sent.body:
                    return sent
            time.sleep(0.1)
        raise AssertionError(
            f"no text to {phone} containing {contains!r} within {timeout}s: {self.to(phone)}"
        )


def signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """The provider's X-Twilio-Signature: base64 HMAC-SHA1 of the URL and the sorted fields."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


_inbound_ids = itertools.count(1)


def reply(notify_url: str, sender: str, body: str, *, forged: bool = False) -> requests.Response:
    """The provider passing on a text someone sent to the hub's number."""
    url = f"{notify_url}/sms/inbound"
    form = {"MessageSid": f"SMin{next(_inbound_ids):030d}", "From": sender, "To": SENDER, "Body": body}
    token = "a-forger-does-not-know-it" if forged else AUTH_TOKEN
    return requests.post(
        url, data=form, headers={"X-Twilio-Signature": signature(url, form, token)}, timeout=10
    )


def receipt(callback_url: str, sid: str, status: str, error_code: str | None = None) -> requests.Response:
    """The provider telling the hub what became of a text."""
    form = {"MessageSid": sid, "MessageStatus": status} | ({"ErrorCode": error_code} if error_code else {})
    return requests.post(
        callback_url, data=form, headers={"X-Twilio-Signature": signature(callback_url, form)}, timeout=10
    )
