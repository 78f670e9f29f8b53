"""Posting a signed webhook to a partner's system (hub_shared.webhooks signs it)."""

from __future__ import annotations

import time

import requests

from hub_shared.webhooks import signed_headers
from notify.mail import DeliveryError

WEBHOOK_TIMEOUT_SECONDS = 10
RETRYABLE_STATUSES = {408, 425, 429}  # and every 5xx


def post_webhook(url: str, secrets: list[str], message_id: str, body: str) -> None:
    """POST the JSON body; raise DeliveryError (permanent for a 4xx the partner means) on failure.
    The message id is the webhook-id on every attempt, so the partner can drop a repeat."""
    data = body.encode()
    headers = signed_headers(secrets, message_id, int(time.time()), data)
    try:
        response = requests.post(
            url, data=data, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise DeliveryError(f"could not reach the webhook: {type(exc).__name__}", permanent=False) from exc
    if 200 <= response.status_code < 300:
        return
    code = response.status_code
    permanent = 400 <= code < 500 and code not in RETRYABLE_STATUSES
    raise DeliveryError(f"the webhook answered {code}", permanent=permanent)
