"""A referral's statuses and the moves between them."""

from __future__ import annotations

from enum import StrEnum

from hub_shared.states import Transitions


class ReferralStatus(StrEnum):
    sent = "sent"  # waiting for the partner's answer
    accepted = "accepted"  # the partner holds it
    rejected = "rejected"
    expired = "expired"
    completed = "completed"
    withdrawn = "withdrawn"  # a coordinator or the request's end took it back


REFERRAL_MOVES = Transitions(
    "referral",
    {
        ReferralStatus.sent: {
            ReferralStatus.accepted, ReferralStatus.rejected, ReferralStatus.expired, ReferralStatus.withdrawn
        },
        ReferralStatus.accepted: {ReferralStatus.completed, ReferralStatus.withdrawn},
    },
)  # fmt: skip

# Waiting for the partner's answer, or held by it.
ACTIVE = frozenset({ReferralStatus.sent, ReferralStatus.accepted})
