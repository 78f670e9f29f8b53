"""Webhooks to partner groups, signed the Standard Webhooks way (standardwebhooks.com):
headers `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`, keyed by a `whsec_` secret.

Each partner's secret is derived from HUB_SECRET_KEY and the partner's id, so no service keeps
a copy that could leak and an admin prints it for the partner with
`hub partners webhook-secret PARTNER_ID`. Changing HUB_SECRET_KEY changes every partner's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def partner_secret(secret_key: str, partner_id: str) -> str:
    digest = hmac.new(secret_key.encode(), f"hub.webhook.{partner_id}".encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(digest).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
