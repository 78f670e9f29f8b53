"""The signed links intake makes and checks (itsdangerous, a salt per purpose, only an opaque
id inside): a person's one-time link to set a password, and a requester's "did you get help?"
link (made by notify with the hub's key). Built once, by the bootstrap. No Flask here."""

from __future__ import annotations

from hub_shared.tokens import REQUESTER_CHECK_LINK, LinkSigner

PASSWORD_LINK = "set-password"  # the signed link's purpose
PASSWORD_LINK_MAX_AGE = 4 * 24 * 3600  # (the nonce it carries is spent within 3 days, or never)
CHECK_LINK_MAX_AGE = 60 * 24 * 3600


class Links:
    def __init__(self, signer: LinkSigner, *, intake_url: str) -> None:
        self.signer = signer
        self.intake_url = intake_url

    def set_password(self, nonce: str) -> str:
        """The page where the holder of this one-time nonce chooses a password."""
        return f"{self.intake_url}/password/{self.signer.sign(PASSWORD_LINK, nonce)}"

    def password_nonce(self, token: str) -> str:
        """The nonce a password link carries; InvalidLink if it is not one of ours or too old."""
        return self.signer.verify(PASSWORD_LINK, token, max_age_seconds=PASSWORD_LINK_MAX_AGE)

    def checked_request(self, token: str) -> str:
        """The request a "did you get help?" link is about; InvalidLink if not valid."""
        return self.signer.verify(REQUESTER_CHECK_LINK, token, max_age_seconds=CHECK_LINK_MAX_AGE)
