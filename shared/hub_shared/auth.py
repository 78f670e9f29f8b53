"""API tokens: `Authorization: Bearer <token>`, signed with HUB_SECRET_KEY, so every service
checks them without asking intake (which will own people and tokens, and revoke them).

A token's payload is readable, so it holds only an opaque id, the role and, for a partner,
the partner's id from the routing file: never a name or anything personal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

ROLES = ("admin", "coordinator", "council", "partner")


@dataclass(frozen=True)
class Caller:
    """Who is asking: an API token's holder, or a person signed in on a page."""

    id: str  # the token's id, or the person's
    role: str
    partner: str | None  # set for the partner role: it sees only its own organisation's work
    kind: str = "token"  # or "person"


class ApiTokens:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="hub.api-token")

    def issue(self, role: str, partner: str | None = None, token_id: str | None = None) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if (role == "partner") != bool(partner):
            raise ValueError("a partner token names its partner, and only a partner token does")
        payload = {"tid": token_id or str(uuid.uuid4()), "role": role, "partner": partner}
        return self._serializer.dumps(payload)

    def verify(self, token: str) -> Caller | None:
        try:
            data = self._serializer.loads(token)
        except BadSignature:
            return None
        if (
            not isinstance(data, dict)
            or data.get("role") not in ROLES
            or not isinstance(data.get("tid"), str)
        ):
            return None
        return Caller(id=data["tid"], role=data["role"], partner=data.get("partner"))
