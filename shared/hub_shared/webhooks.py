"""Webhooks to partner groups, signed the Standard Webhooks way (standardwebhooks.com):
headers `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`, keyed by a `whsec_` secret.

Each partner's secret is derived from HUB_SECRET_KEY, the partner's id and a generation, so no
service keeps a copy that could leak; an admin prints it for the partner with
`hub partners webhook-secret PARTNER_ID [--generation N]`. To rotate a partner's secret, raise
`webhook_secret_generation` in the routing file: deliveries are then signed with the new secret
and the previous one (two signatures in the header), so the partner can switch when ready.
Changing HUB_SECRET_KEY changes every partner's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def partner_secret(secret_key: str, partner_id: str, generation: int = 1) -> str:
    label = f"hub.webhook.{partner_id}" + (f".{generation}" if generation > 1 else "")
    digest = hmac.new(secret_key.encode(), label.encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(digest).decode()


def partner_secrets(secret_key: str, partner_id: str, generation: int) -> list[str]:
    """The secrets a delivery is signed with: this generation's and, while rotating, the last."""
    return [partner_secret(secret_key, partner_id, g) for g in range(generation, max(generation - 2, 0), -1)]


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(secret, message_id, timestamp, body) for secret in secrets),
    }
