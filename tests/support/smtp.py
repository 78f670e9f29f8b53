"""A real SMTP server (aiosmtpd) that keeps what it receives, for tests to read."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        # Recipients whose first conversation hangs after RCPT (a server that stops answering):
        # the sender is stuck mid-send, and nothing is delivered by that conversation.
        self.hang_first: set[str] = set()
        self.hang_next = False  # the next conversation hangs, whoever it is to
        # The next message is taken whole, then the answer to DATA waits (until `release`).
        self.hang_in_data_next = False
        self.hung = threading.Event()
        self.release = threading.Event()  # set: a hung conversation goes on (else after 60 s)
        self.arrived: list[tuple[float, EmailMessage]] = []  # (time.monotonic(), message)
        # What the server answers to QUIT, after it has accepted the message (None: 221 Bye).
        self.quit_reply: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        with self._lock:
            hang = address in self.hang_first or self.hang_next
            self.hang_first.discard(address)
            self.hang_next = False
        if hang:
            self.hung.set()
            deadline = time.monotonic() + 60
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.arrived.append((time.monotonic(), message))
            hang, self.hang_in_data_next = self.hang_in_data_next, False
        if hang:
            self.hung.set()
            deadline = time.monotonic() + 60
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> Any:
        return self.quit_reply or MISSING

    def to(self, recipient: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if recipient in str(m["To"])]

    def wait_for(self, recipient: str, subject_contains: str, timeout: float = 30) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.to(recipient):
                if subject_contains in str(message["Subject"]):
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no mail to {recipient} about {subject_contains!r} within {timeout}s")


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.mailbox = Mailbox()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=port)
        self.port = port

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def start_again(self) -> None:
        """After `stop`: the same mailbox, answering on the same port."""
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()
