"""People who sign in and API tokens, both owned by intake. People are created by an admin with
`hub users create` and get a one-time link to set their password (hashed with argon2id,
memory-hard); signing in is slowed by a lockout after repeated failures. Tokens are recorded
when issued and revoked by event in every service. No Flask here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hub_shared.auth import ROLES, ApiTokens
from hub_shared.bus import Bus, keep_revoked
from hub_shared.events import PersonChanged, TokenRevoked
from intake.models import ApiToken, PasswordLink, Person, RevokedToken

PASSWORD_LINK_LIFETIME = timedelta(days=3)
MIN_PASSWORD_LENGTH = 12
MAX_FAILED_SIGN_INS = 5  # then the account waits LOCKOUT before anyone may try again
LOCKOUT = timedelta(minutes=15)


class Refused(ValueError):
    """The action cannot be done; the message is safe to show (it reveals no account)."""


class Passwords:
    """argon2id with the library's recommended memory and time costs (built once, by the
    bootstrap: making the stand-in hash takes as long as checking a password)."""

    def __init__(self) -> None:
        self.hasher = PasswordHasher()
        # Checked when the email is unknown too, so a wrong email takes as long as a wrong password.
        self.dummy_hash = self.hasher.hash("not anyone's password")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def check(self, password_hash: str | None, password: str) -> bool:
        """Whether the password is right; as slow when there is no hash to check against."""
        try:
            right = self.hasher.verify(password_hash or self.dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return right and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class NewPerson:
    person: Person
    password_nonce: str  # for the one-time link to set the password


def now_utc() -> datetime:
    return datetime.now(UTC)


def create_person(session: Session, bus: Bus, email: str, role: str, partner: str | None) -> NewPerson:
    """Add someone who signs in (notify learns of coordinators by person.changed)."""
    email = email.strip().lower()
    if role not in ROLES:
        raise Refused(f"The role must be one of {', '.join(ROLES)}.")
    if (role == "partner") != bool(partner):
        raise Refused("A partner's worker names their partner (--partner), and only they do.")
    if "@" not in email or len(email) > 254:
        raise Refused("Give the person's email address.")
    if session.scalar(select(Person.id).where(func.lower(Person.email) == email)):
        raise Refused("Someone with that email address can already sign in.")
    person = Person(id=str(uuid.uuid4()), email=email, role=role, partner=partner, created_at=now_utc())
    session.add(person)
    session.flush()
    bus.publish(session, "person.changed", PersonChanged(person_id=person.id, email=email, role=role))
    return NewPerson(person, new_password_link(session, person))


def new_password_link(session: Session, person: Person) -> str:
    nonce = str(uuid.uuid4())
    session.add(PasswordLink(nonce=nonce, person_id=person.id, expires_at=now_utc() + PASSWORD_LINK_LIFETIME))
    return nonce


def set_password(session: Session, passwords: Passwords, nonce: str, password: str) -> Person:
    """Spend a one-time link to set a password. Refused if the password is too short, or the
    link is spent or expired."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"Use at least {MIN_PASSWORD_LENGTH} characters")
    now = now_utc()
    spent = session.execute(
        update(PasswordLink)
        .where(PasswordLink.nonce == nonce, PasswordLink.used_at.is_(None), PasswordLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise Refused("This link has been used or has expired. Ask an admin for a new one.")
    link = session.get(PasswordLink, nonce)
    assert link is not None
    person = session.get(Person, link.person_id)
    assert person is not None
    person.password_hash = passwords.hash(password)
    person.failed_sign_ins, person.locked_until = 0, None
    return person


def sign_in(session: Session, passwords: Passwords, email: str, password: str) -> Person:
    """The person whose email and password these are; Refused (the same message whichever was
    wrong) if not, or if the account is locked after too many failures."""
    now = now_utc()
    person = session.scalar(select(Person).where(func.lower(Person.email) == email.strip().lower()))
    if person is not None and person.locked_until is not None and person.locked_until > now:
        raise Refused("Too many failed attempts. Try again in 15 minutes, or ask an admin.")
    if person is None or person.password_hash is None:
        passwords.check(None, password)
        raise Refused("The email address or the password is not right.")
    if not passwords.check(person.password_hash, password):
        person.failed_sign_ins += 1
        if person.failed_sign_ins >= MAX_FAILED_SIGN_INS:
            person.locked_until, person.failed_sign_ins = now + LOCKOUT, 0
        raise Refused("The email address or the password is not right.")
    person.failed_sign_ins, person.locked_until = 0, None
    if passwords.needs_rehash(person.password_hash):
        person.password_hash = passwords.hash(password)
    return person


# -- API tokens ------------------------------------------------------------------------------------


def issue_token(session: Session, tokens: ApiTokens, *, name: str, role: str, partner: str | None) -> str:
    """Record a new API token (its id, name and role, never the token) and return the token."""
    name = name.strip()
    if not name or len(name) > 200:
        raise Refused("Name the token for what or whom it is (at most 200 characters).")
    token_id = str(uuid.uuid4())
    try:
        token = tokens.issue(role, partner, token_id=token_id)
    except ValueError as exc:
        raise Refused(str(exc)) from exc
    session.add(ApiToken(id=token_id, name=name, role=role, partner=partner, created_at=now_utc()))
    return token


def revoke_token(session: Session, bus: Bus, tokens: ApiTokens, id_or_token: str) -> str:
    """Revoke a token (by its id from `hub token list`, or the token itself, for one issued
    before intake recorded them) here at once and, by token.revoked, in every service."""
    recorded = session.get(ApiToken, id_or_token)
    if recorded is None:
        caller = tokens.verify(id_or_token)
        if caller is None:
            raise Refused("There is no token with that id (`hub token list` shows them).")
        token_id = caller.id
    else:
        token_id = recorded.id
        recorded.revoked_at = recorded.revoked_at or now_utc()
    if keep_revoked(session, RevokedToken, token_id, now_utc()):  # intake refuses it now
        bus.publish(session, "token.revoked", TokenRevoked(token_id=token_id))
    return token_id
