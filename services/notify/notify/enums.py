"""notify's statuses and the moves allowed between them, and the other fixed words its code and
templates compare against (a StrEnum is its string: stored, compared and serialised as before)."""

from __future__ import annotations

from enum import StrEnum

from hub_shared.states import Transitions


class MessageStatus(StrEnum):
    """Where a message is: queued -> sending -> sent (-> delivered, from the SMS provider's
    receipt) | held (the dev outbox: no server configured for its channel) | failed; a reminder
    no longer needed is cancelled."""

    queued = "queued"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    held = "held"
    failed = "failed"
    cancelled = "cancelled"


# Every move a message makes: a send claims a queued message (sending) and ends it sent, held or
# failed, or hands it back (queued: to retry later, to wait out quiet hours or the rate, or a
# lease that ran out); the provider's receipt moves a sent text on; an answered offer or
# referral cancels a reminder still waiting; a coordinator sends a failed message again.
MESSAGE_MOVES = Transitions(
    "message",
    {
        MessageStatus.queued: {MessageStatus.sending, MessageStatus.cancelled},
        MessageStatus.sending: {
            MessageStatus.sent,
            MessageStatus.held,
            MessageStatus.failed,
            MessageStatus.queued,
        },
        MessageStatus.sent: {MessageStatus.delivered, MessageStatus.failed},
        MessageStatus.failed: {MessageStatus.queued},
    },
)

# The moves a person may ask for (the log's retry): a part of MESSAGE_MOVES.
ASKED_MOVES = Transitions("message", {MessageStatus.failed: {MessageStatus.queued}})


class SendOutcome(StrEnum):
    """What one call to send a message did (an attempt's outcome is one of the first four)."""

    sent = "sent"
    held = "held"  # nothing configured to send it with: kept in the dev outbox
    retrying = "retrying"
    failed = "failed"
    waiting = "waiting"  # quiet hours or the rate limit: not an attempt
    skipped = "skipped"  # another worker has it, or it is done


class ChannelName(StrEnum):
    """How a message leaves (`Message.channel`); `dev_outbox` only names, in a
    notification.sent event, a message kept in the dev outbox instead of being sent."""

    email = "email"
    sms = "sms"
    webhook = "webhook"
    dev_outbox = "dev_outbox"


class Keyword(StrEnum):
    """What a volunteer's text asks for, from its first word."""

    yes = "yes"
    no = "no"
    done = "done"
    stop = "stop"
    other = "other"


class Receipt(StrEnum):
    """The SMS provider's word on a text (Twilio's MessageStatus) that settles it; its other words
    (queued, sent...) are steps on the way."""

    delivered = "delivered"
    undelivered = "undelivered"
    failed = "failed"


class WithdrawalReason(StrEnum):
    """Why dispatch withdrew an offer or a referral (the messages word each differently)."""

    cancelled = "cancelled"
    on_hold = "on_hold"
    reassigned = "reassigned"
    stepped_back = "stepped_back"
