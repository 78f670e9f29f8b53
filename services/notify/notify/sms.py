"""Text messages through a Twilio-compatible HTTP API (HUB_SMS_URL, so tests and any compatible
provider can stand in), how providers count segments, and checking the provider's signature
on what it sends us (inbound replies and delivery receipts)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from collections.abc import Iterable
from dataclasses import dataclass

import requests

from notify.mail import DeliveryError

SMS_TIMEOUT_SECONDS = 15
RETRYABLE_STATUSES = {408, 425, 429}  # and every 5xx

# The GSM 03.38 alphabet: a text in it costs 7 bits a character (160 in one segment, 153 in
# each part of a longer one); the extension table's characters cost two. Anything else sends
# the whole text as UCS-2: 70 in one segment, 67 in each part.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def segments(body: str) -> int:
    """How many segments a provider bills and sends for `body`."""
    if all(c in GSM7 or c in GSM7_EXTENDED for c in body):
        units, single, part = sum(2 if c in GSM7_EXTENDED else 1 for c in body), 160, 153
    else:
        units, single, part = sum(2 if ord(c) > 0xFFFF else 1 for c in body), 70, 67
    return 1 if units <= single else math.ceil(units / part)


@dataclass(frozen=True)
class SmsProvider:
    base_url: str
    account_sid: str
    auth_token: str
    sender: str

    def send(self, *, to: str, body: str, status_callback: str) -> str:
        """Hand one text to the provider; its id for the delivery receipt. DeliveryError
        (permanent for a 4xx it means, like an invalid number) if it is not taken."""
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        form = {"To": to, "From": self.sender, "Body": body, "StatusCallback": status_callback}
        try:
            response = requests.post(
                url, data=form, auth=(self.account_sid, self.auth_token), timeout=SMS_TIMEOUT_SECONDS
            )
        except requests.RequestException as exc:
            raise DeliveryError(
                f"could not reach the SMS provider: {type(exc).__name__}", permanent=False
            ) from exc
        code = response.status_code
        if 200 <= code < 300:
            return str(response.json()["sid"])
        permanent = 400 <= code < 500 and code not in RETRYABLE_STATUSES
        raise DeliveryError(
            f"the SMS provider answered {code}{provider_message(response)}", permanent=permanent
        )


def provider_message(response: requests.Response) -> str:
    """The provider's own reason (Twilio's JSON error has `message`), never the text we sent."""
    try:
        message = response.json().get("message")
    except ValueError:
        return ""
    return f": {str(message)[:200]}" if message else ""


def request_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's X-Twilio-Signature: HMAC-SHA1, keyed by the auth token, over the full public URL
    followed by each POST parameter's name and value, sorted by name; base64."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_is_valid(auth_token: str, url: str, params: Iterable[tuple[str, str]], given: str) -> bool:
    return hmac.compare_digest(request_signature(auth_token, url, params), given)
