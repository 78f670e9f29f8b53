"""Sending email through SMTP, configured by HUB_SMTP_URL:
smtp://[user:pass@]host:port, smtp+starttls://... or smtps://..."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
SMTP_TIMEOUT_SECONDS = 20


class DeliveryError(Exception):
    """A send that failed; `permanent` says retrying cannot help (a refused address)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpSender:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpSender:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError(
                "HUB_SMTP_URL must look like smtp://host:port, smtp+starttls://user:pass@host:587 "
                "or smtps://user:pass@host:465"
            )
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def send(
        self,
        *,
        message_id: str,
        sender: str,
        recipient: str,
        subject: str,
        body: str,
        html: str | None = None,
    ) -> None:
        """A plain-text part, and an HTML part when one is given (mail programs show either).
        The Message-ID comes from the hub's message id, so a copy sent again (the one window
        SMTP leaves: a worker that died while the server took the message) carries the same
        one, and mail programs and servers that drop repeats can."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, recipient, subject
        message["Message-ID"] = f"<{message_id}@{domain_of(sender)}>"
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
        try:
            if self.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
            try:
                if self.scheme == "smtp+starttls":
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(message)
            finally:
                say_goodbye(client)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError("the mail server refused the address", permanent=min(codes) >= 500) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"the mail server answered {exc.smtp_code}", permanent=exc.smtp_code >= 500
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"could not reach the mail server: {type(exc).__name__}", permanent=False
            ) from exc


def domain_of(sender: str) -> str:
    """The domain of "Name <hub@example.org>" (for Message-IDs)."""
    return parseaddr(sender)[1].rpartition("@")[2] or "hub.invalid"


def say_goodbye(client: smtplib.SMTP) -> None:
    """End the conversation whatever the server answers to QUIT. Once it accepted the message
    (DATA), the message is delivered: a 421 or 554 to QUIT must not send it again or mark it
    failed (`with smtplib.SMTP(...)` raises on any answer but 221)."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()
