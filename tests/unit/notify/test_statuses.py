"""A message's statuses and their moves: what a coordinator asks for is checked against the table
(409 when it does not allow it), while the provider's late or repeated receipts are ignored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest
from sqlalchemy.orm import Session

from hub_shared.errors import NotFound
from hub_shared.states import IllegalMove
from notify.enums import ASKED_MOVES, MESSAGE_MOVES, MessageStatus
from notify.models import Message
from notify.service import retry_failed


class OneMessage:
    """Just enough of a session for a use case that reads one message."""

    def __init__(self, message: Message | None) -> None:
        self.message = message

    def get(self, _model: type, message_id: str) -> Message | None:
        return self.message if self.message is not None and self.message.id == message_id else None


def session_with(message: Message | None) -> Session:
    return cast(Session, OneMessage(message))


def a_message(status: MessageStatus) -> Message:
    return Message(id="m-1", status=status, attempts=8, next_attempt_at=datetime.now(UTC))


def test_what_a_person_may_ask_for_is_a_move_the_table_allows() -> None:
    for start, ends in ASKED_MOVES.moves.items():
        assert all(MESSAGE_MOVES.allows(start, end) for end in ends)


def test_a_failed_message_is_queued_again_with_a_fresh_count() -> None:
    message = a_message(MessageStatus.failed)
    assert retry_failed(session_with(message), "m-1") is message
    assert (message.status, message.attempts, message.next_attempt_at) == ("queued", 0, None)


@pytest.mark.parametrize("status", [s for s in MessageStatus if s != MessageStatus.failed])
def test_only_a_failed_message_can_be_sent_again(status: MessageStatus) -> None:
    message = a_message(status)
    with pytest.raises(IllegalMove, match=f"Only a failed message can be sent again; this one is {status}"):
        retry_failed(session_with(message), "m-1")
    assert message.status == status and message.attempts == 8


def test_retrying_a_message_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(NotFound):
        retry_failed(session_with(None), "m-1")


@pytest.mark.parametrize(
    ("current", "new", "applied"),
    [
        (MessageStatus.sent, MessageStatus.delivered, True),
        (MessageStatus.sent, MessageStatus.failed, True),
        (MessageStatus.delivered, MessageStatus.failed, False),  # a late receipt
        (MessageStatus.failed, MessageStatus.delivered, False),
        (MessageStatus.queued, MessageStatus.delivered, False),  # sent again since: not this send's
    ],
)
def test_a_receipt_moves_only_a_sent_text(current: MessageStatus, new: MessageStatus, applied: bool) -> None:
    assert MESSAGE_MOVES.allows(current, new) is applied
