"""Volunteers' texts to the hub (through the SMS provider's inbound webhook): each kept once,
read by its first word, and passed to dispatch; STOP stops every text to that number; anything
else goes to the coordinators to read."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub_shared.bus import Bus
from hub_shared.events import ReplyReceived
from notify.audiences import People, reply_to_coordinators
from notify.enums import Keyword
from notify.models import OptOut, Reply
from notify.service import Render, now_utc

KEYWORDS = {
    "yes": Keyword.yes, "y": Keyword.yes,
    "no": Keyword.no, "n": Keyword.no,
    "done": Keyword.done,
    "stop": Keyword.stop, "stopall": Keyword.stop, "unsubscribe": Keyword.stop, "cancel": Keyword.stop,
    "end": Keyword.stop, "quit": Keyword.stop,
}  # fmt: skip


def keyword_of(body: str) -> Keyword:
    """What a reply asks for, from its first word ("Yes!" is yes); anything else is `other`."""
    words = body.strip().split()
    first = "".join(c for c in words[0] if c.isalnum()).lower() if words else ""
    return KEYWORDS.get(first, Keyword.other)


def receive_reply(
    session: Session, bus: Bus, *, render: Render, people: People, provider_id: str, sender: str, body: str
) -> Reply | None:
    """Record a volunteer's text once (a replayed webhook finds it) and pass what it asks for to
    dispatch; a text that is not YES, NO, DONE or STOP also goes to the coordinators to read.
    STOP also stops every text to that number here. None if it was seen before."""
    if session.scalar(select(Reply.id).where(Reply.provider_id == provider_id)):
        return None
    now = now_utc()
    reply = Reply(
        id=str(uuid.uuid4()),
        provider_id=provider_id,
        sender=sender,
        body=body[:1600],
        keyword=keyword_of(body),
        received_at=now,
    )
    session.add(reply)
    if reply.keyword == Keyword.stop and session.get(OptOut, sender) is None:
        session.add(OptOut(phone=sender, opted_out_at=now))
    bus.publish(
        session, "reply.received", ReplyReceived(reply_id=reply.id, phone=sender, keyword=reply.keyword)
    )
    if reply.keyword == Keyword.other:
        reply_to_coordinators(session, reply, render, people)
    return reply
