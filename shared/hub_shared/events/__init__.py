"""The event contracts, one catalogue: each event type's payload class and schema, and who
subscribes (catalogue.py); the payloads by what they are about (requests, offers, referrals,
the hub's own); and what they share (common.py)."""

from hub_shared.events.catalogue import (
    CATALOGUE,
    Event,
    EventType,
    InvalidEvent,
    new_event,
    parse_event,
)
from hub_shared.events.common import NEEDS, URGENCIES, Contact, PartnerRef, VolunteerRef
from hub_shared.events.hub import NotificationOutcome, PersonChanged, TokenRevoked
from hub_shared.events.offers import (
    OfferAccepted,
    OfferAnswered,
    OfferSent,
    OfferWithdrawn,
    ReplyReceived,
    TaskReleased,
    VolunteerSignedUp,
)
from hub_shared.events.referrals import ReferralAccepted, ReferralAnswered, ReferralSent, ReferralWithdrawn
from hub_shared.events.requests import (
    Candidate,
    MatchRanked,
    RequestEnded,
    RequestEscalated,
    RequestSubmitted,
)

__all__ = [
    "CATALOGUE",
    "NEEDS",
    "URGENCIES",
    "Candidate",
    "Contact",
    "Event",
    "EventType",
    "InvalidEvent",
    "MatchRanked",
    "NotificationOutcome",
    "OfferAccepted",
    "OfferAnswered",
    "OfferSent",
    "OfferWithdrawn",
    "PartnerRef",
    "PersonChanged",
    "ReferralAccepted",
    "ReferralAnswered",
    "ReferralSent",
    "ReferralWithdrawn",
    "ReplyReceived",
    "RequestEnded",
    "RequestEscalated",
    "RequestSubmitted",
    "TaskReleased",
    "TokenRevoked",
    "VolunteerRef",
    "VolunteerSignedUp",
    "new_event",
    "parse_event",
]
