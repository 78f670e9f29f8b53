"""An offer's statuses and the moves between them."""

from __future__ import annotations

from enum import StrEnum

from hub_shared.states import Transitions


class OfferStatus(StrEnum):
    offered = "offered"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    withdrawn = "withdrawn"  # a coordinator, the request's end or another volunteer took it
    completed = "completed"
    released = "released"  # the volunteer gave an accepted task back


OFFER_MOVES = Transitions(
    "offer",
    {
        OfferStatus.offered: {
            OfferStatus.accepted, OfferStatus.declined, OfferStatus.expired, OfferStatus.withdrawn
        },
        OfferStatus.accepted: {OfferStatus.completed, OfferStatus.released, OfferStatus.withdrawn},
    },
)  # fmt: skip

# Offers that hold a place in the volunteer's count of tasks in hand.
ACTIVE = frozenset({OfferStatus.offered, OfferStatus.accepted})
