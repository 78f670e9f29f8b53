"""Signed links into dispatch's pages, for messages to volunteers and partners. A link holds
only an opaque id, signed with a salt per purpose, so one page's link never opens another."""

from __future__ import annotations

from dataclasses import dataclass

from hub_shared.tokens import LinkSigner

OFFER_LINK, TASK_LINK, VOLUNTEER_LINK, AVAILABILITY_LINK = "offer", "task", "volunteer", "availability"
REFERRAL_LINK = "referral"  # accept or reject: opens no personal details
REFERRAL_TASK_LINK = "referral-task"  # complete: after accepting, shows the details


def referral_purpose(action: str) -> str:
    """The complete link has its own purpose: an accept link must never open the details."""
    return REFERRAL_TASK_LINK if action == "complete" else REFERRAL_LINK


@dataclass(frozen=True)
class Links:
    """Signed links into dispatch's pages, for messages to volunteers."""

    signer: LinkSigner
    base_url: str

    def offer(self, offer_id: str, action: str) -> str:
        return f"{self.base_url}/offers/{self.signer.sign(OFFER_LINK, offer_id)}/{action}"

    def task(self, offer_id: str, action: str) -> str:
        return f"{self.base_url}/tasks/{self.signer.sign(TASK_LINK, offer_id)}/{action}"

    def availability(self, volunteer_id: str) -> str:
        return f"{self.base_url}/volunteers/availability/{self.signer.sign(AVAILABILITY_LINK, volunteer_id)}"

    def verify(self, volunteer_id: str) -> str:
        return f"{self.base_url}/volunteers/verify/{self.signer.sign(VOLUNTEER_LINK, volunteer_id)}"

    def referral(self, referral_id: str, action: str) -> str:
        token = self.signer.sign(referral_purpose(action), referral_id)
        return f"{self.base_url}/referrals/{token}/{action}"

    def referral_api(self, referral_id: str) -> str:
        return f"{self.base_url}/api/v1/referrals/{referral_id}"
