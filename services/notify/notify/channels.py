"""How messages leave: one interface, `Channel.send(message)`, with an adapter for each way out
(SMTP, the SMS provider, a partner's signed webhook). `deliver` picks the adapter by the
message's channel; a channel with no adapter configured keeps its messages in the dev outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hub_shared.webhooks import partner_secrets
from notify.mail import DeliveryError, SmtpSender
from notify.models import Message
from notify.sms import SmsProvider
from notify.webhook import post_webhook

__all__ = ["Channel", "DeliveryError", "EmailChannel", "SmsChannel", "WebhookChannel"]


class Channel(Protocol):
    def send(self, message: Message) -> str | None:
        """Send it once: the provider's id for it (for a delivery receipt), if it gives one.
        DeliveryError (permanent or not) if it did not go."""
        ...


@dataclass(frozen=True)
class EmailChannel:
    """Mail through HUB_SMTP_URL, as plain text and, with a layout, HTML too."""

    smtp_url: str
    mail_from: str
    # Makes an email's HTML part from its subject and text (an overridable template); None: text only.
    html_layout: Callable[[str, str], str] | None

    def send(self, message: Message) -> None:
        html = self.html_layout(message.subject, message.body) if self.html_layout else None
        SmtpSender.from_url(self.smtp_url).send(
            message_id=message.id,
            sender=self.mail_from,
            recipient=message.recipient,
            subject=message.subject,
            body=message.body,
            html=html,
        )


@dataclass(frozen=True)
class SmsChannel:
    """Texts through a Twilio-compatible provider, which reports delivery to `status_callback`
    (notify's public /sms/status)."""

    provider: SmsProvider
    status_callback: str

    def send(self, message: Message) -> str:
        return self.provider.send(
            to=message.recipient, body=message.body, status_callback=self.status_callback
        )


@dataclass(frozen=True)
class WebhookChannel:
    """A partner's system, by a webhook signed with the partner's secrets (which derive from the
    hub's secret key); the message id is its webhook-id, so a partner can drop a repeat."""

    secret_key: str | None

    def send(self, message: Message) -> None:
        if not self.secret_key or not message.partner_id:
            raise DeliveryError("no secret to sign the webhook with", permanent=True)
        secrets = partner_secrets(self.secret_key, message.partner_id, message.secret_generation or 1)
        post_webhook(message.recipient, secrets, message.id, message.body)
