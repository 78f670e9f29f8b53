"""Signed links: a token proves it came from the hub, for one purpose, and is not too old. It is
readable by anyone holding the link, so it carries an id and nothing personal."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer

from hub_shared.tokens import ExpiredLink, InvalidLink, LinkSigner

SECRET = "unit-test-secret-0123456789"
DAY = 24 * 3600


@pytest.fixture
def signer() -> LinkSigner:
    return LinkSigner(SECRET)


def test_a_signed_id_verifies_back_to_the_same_id(signer: LinkSigner) -> None:
    token = signer.sign("offer", "offer-123")
    assert signer.verify("offer", token, max_age_seconds=DAY) == "offer-123"
    assert LinkSigner(SECRET).verify("offer", token, max_age_seconds=DAY) == "offer-123"


def test_a_token_for_one_purpose_fails_for_another(signer: LinkSigner) -> None:
    """An offer link cannot be replayed as a 'task complete' link."""
    token = signer.sign("offer", "offer-123")
    with pytest.raises(InvalidLink) as raised:
        signer.verify("task", token, max_age_seconds=DAY)
    assert not isinstance(raised.value, ExpiredLink)


@pytest.mark.parametrize(
    "tamper",
    [
        # The signature's first character (its last one may differ only in base64 padding bits).
        lambda t: (
            t[: t.rindex(".") + 1] + ("A" if t[t.rindex(".") + 1] != "A" else "B") + t[t.rindex(".") + 2 :]
        ),
        lambda t: ("A" if t[0] != "A" else "B") + t[1:],  # payload changed
        lambda t: t.split(".")[0],  # signature cut off
        lambda t: "",
    ],
    ids=["signature", "payload", "truncated", "empty"],
)
def test_a_tampered_token_is_invalid(signer: LinkSigner, tamper: object) -> None:
    token = signer.sign("offer", "offer-123")
    tampered = tamper(token)  # type: ignore[operator]
    assert tampered != token
    with pytest.raises(InvalidLink):
        signer.verify("offer", tampered, max_age_seconds=DAY)


def test_a_token_signed_with_another_secret_is_invalid(signer: LinkSigner) -> None:
    foreign = LinkSigner("another-secret-0123456789").sign("offer", "offer-123")
    with pytest.raises(InvalidLink):
        signer.verify("offer", foreign, max_age_seconds=DAY)


def test_an_old_token_is_expired(signer: LinkSigner) -> None:
    """Older than max_age: ExpiredLink (still an InvalidLink, so callers may catch either)."""
    token = signer.sign("offer", "offer-123")
    with pytest.raises(ExpiredLink, match="expired"):
        signer.verify("offer", token, max_age_seconds=-1)
    assert issubclass(ExpiredLink, InvalidLink)


def test_the_token_carries_only_the_id(signer: LinkSigner) -> None:
    """Anyone can read a token's payload without the secret: it must hold just the opaque id."""
    token = signer.sign("offer", "offer-123")
    readable, payload = URLSafeTimedSerializer("not-the-secret", salt="hub.link.offer").loads_unsafe(token)
    assert readable is False  # the signature does not check out without the secret...
    assert payload == {"id": "offer-123"}  # ...but the content is plain to read
