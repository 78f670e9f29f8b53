"""Signed links for messages (accept, decline, complete): opaque ids only, one salt per purpose.

A token's payload is readable by anyone who has the link, so it carries an id and nothing
personal. It proves the link came from the hub and is not too old; whether it is still
usable (single use) is decided by the state it points at, changed atomically by its owner.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

# Links one service signs and another opens: notify sends the requester intake's check page.
REQUESTER_CHECK_LINK = "requester-check"


class InvalidLink(ValueError):
    """The link was altered, is for another purpose, or was never issued by this hub."""


class ExpiredLink(InvalidLink):
    """The link is genuine but older than it may be."""


class LinkSigner:
    def __init__(self, secret_key: str) -> None:
        self.secret_key = secret_key

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt=f"hub.link.{purpose}")

    def sign(self, purpose: str, subject_id: str) -> str:
        return self._serializer(purpose).dumps({"id": subject_id})

    def verify(self, purpose: str, token: str, *, max_age_seconds: int) -> str:
        try:
            data = self._serializer(purpose).loads(token, max_age=max_age_seconds)
        except SignatureExpired as exc:
            raise ExpiredLink("This link has expired.") from exc
        except BadSignature as exc:
            raise InvalidLink("This link is not valid.") from exc
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise InvalidLink("This link is not valid.")
        return data["id"]
