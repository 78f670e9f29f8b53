"""dispatch acts on a volunteer's text (from notify): matched to the sender's number and their
most recent open offer or accepted task, never to anything written in it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select, update

from dispatch.flows import answer_by_text
from dispatch.jobs.service import receive_request
from dispatch.models import Offer, Volunteer
from hub_shared.events import new_event
from tests.support.events import request_submitted_payload
from tests.unit.conftest import hub_of
from tests.unit.dispatch.helpers import deps_for, volunteer

PHONE = "+447700900101"  # helpers.volunteer's "07700 900101"


def offered(app: Flask) -> Offer:
    """A request offered to the volunteer with PHONE; the offer."""
    hub = hub_of(app)
    with hub.db.transaction() as session:
        event = new_event("request.submitted", request_submitted_payload(), request_id=str(uuid.uuid4()))
        receive_request(session, deps_for(app), event)
    with hub.db.sessions() as session:
        return session.scalars(select(Offer).order_by(Offer.created_at.desc())).first()  # type: ignore[return-value]


def text(app: Flask, keyword: str, phone: str = PHONE) -> str:
    hub = hub_of(app)
    event = new_event("reply.received", {"reply_id": "r-1", "phone": phone, "keyword": keyword})
    with hub.db.transaction() as session:
        return answer_by_text(session, deps_for(app), event)


def status_of(app: Flask, offer_id: str) -> str:
    with hub_of(app).db.sessions() as session:
        offer = session.get(Offer, offer_id)
        assert offer is not None
        return offer.status


def test_yes_accepts_the_senders_open_offer_and_done_completes_it(dispatch_app: Flask) -> None:
    volunteer(dispatch_app)
    offer = offered(dispatch_app)
    assert text(dispatch_app, "done") == "no open offer or task"  # nothing accepted yet
    assert text(dispatch_app, "yes") == "yes"
    assert status_of(dispatch_app, offer.id) == "accepted"
    assert text(dispatch_app, "yes") == "no open offer or task"
    assert text(dispatch_app, "done") == "done"
    assert status_of(dispatch_app, offer.id) == "completed"


def test_no_declines_it(dispatch_app: Flask) -> None:
    volunteer(dispatch_app)
    offer = offered(dispatch_app)
    assert text(dispatch_app, "no") == "no"
    assert status_of(dispatch_app, offer.id) == "declined"


def test_another_number_or_other_words_change_nothing(dispatch_app: Flask) -> None:
    volunteer(dispatch_app)
    offer = offered(dispatch_app)
    assert text(dispatch_app, "yes", phone="+447700900999") == "unknown sender"
    assert text(dispatch_app, "other") == "nothing to do"
    assert status_of(dispatch_app, offer.id) == "offered"


def test_yes_to_an_expired_offer_is_too_late(dispatch_app: Flask) -> None:
    volunteer(dispatch_app)
    offer = offered(dispatch_app)
    with hub_of(dispatch_app).db.transaction() as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        session.execute(update(Offer).where(Offer.id == offer.id).values(expires_at=past))
    assert text(dispatch_app, "yes") == "too late"
    assert status_of(dispatch_app, offer.id) == "offered"  # the sweep expires it


def test_stop_moves_the_volunteer_to_email(dispatch_app: Flask) -> None:
    texter = volunteer(dispatch_app, preferred_channel="sms")
    assert text(dispatch_app, "stop") == "moved to email"
    with hub_of(dispatch_app).db.sessions() as session:
        found = session.get(Volunteer, texter)
        assert found is not None and found.preferred_channel == "email"
