"""Email goes as plain text and HTML (from an overridable layout); an admin's templates in
HUB_TEMPLATES_DIR replace the shipped wording, and a translation there is used for a volunteer
whose first language it is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hub_shared.events import new_event
from notify.models import Message
from notify.rendering import Renderer
from notify.service import deliver
from tests.support.hub import free_port
from tests.support.smtp import SmtpServer
from tests.unit.conftest import hub_of, make_app
from tests.unit.notify.helpers import delivery, parts_of

ASHA = {"id": "v-1", "name": "Asha <Patel>", "email": "asha@example.org", "phone": "+447700900101"}


def offer_sent(**volunteer: Any) -> dict[str, Any]:
    payload = {
        "offer_id": "o-1", "reference": "KXT-4QM", "need": "dog_walking", "urgency": "normal", "area": "KT1",
        "volunteer": ASHA | volunteer,
        "expires_at": datetime.now(UTC) + timedelta(hours=4),
        "accept_url": "http://dispatch.test/offers/TOKEN/accept",
        "decline_url": "http://dispatch.test/offers/TOKEN/decline",
    }  # fmt: skip
    return new_event("offer.sent", payload, request_id="r-1").to_message()


def the_offer(app: Flask, event: dict[str, Any]) -> Message:
    hub = hub_of(app)
    hub.bus.consume(event, parts_of(app).handlers)
    with hub.db.sessions() as session:
        return session.scalars(select(Message).where(Message.template == "offer")).one()


def test_an_email_has_a_text_and_an_html_part(notify_app: Flask) -> None:
    server = SmtpServer(free_port())
    server.start()
    try:
        message = the_offer(notify_app, offer_sent())
        hub = hub_of(notify_app)
        assert (
            deliver(
                hub.uow,
                hub.bus,
                message.id,
                delivery(smtp_url=server.url, html_layout=parts_of(notify_app).renderer.html_layout),
            )
            == "sent"
        )
        [mail] = server.mailbox.messages
    finally:
        server.stop()
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "Hello Asha <Patel>" in text
    assert "Hello Asha &lt;Patel&gt;" in html and "<Patel>" not in html  # escaped
    assert '<a href="http://dispatch.test/offers/TOKEN/accept"' in html


@pytest.fixture
def app_with_own_templates(tmp_path: Path) -> Iterator[Flask]:
    own = tmp_path / "templates"
    (own / "email").mkdir(parents=True)
    (own / "email" / "offer.txt").write_text(
        "Subject: Our own words for {{ reference }}\nHello {{ volunteer.name }}.\n"
    )
    (own / "sms" / "welsh").mkdir(parents=True)
    (own / "sms" / "welsh" / "offer.txt").write_text(
        "Allwch chi helpu gyda {{ reference }}? Atebwch YES neu NO.\n"
    )
    yield from make_app(tmp_path, "notify", HUB_TEMPLATES_DIR=str(own))


def test_an_admins_templates_replace_the_shipped_wording(app_with_own_templates: Flask) -> None:
    message = the_offer(app_with_own_templates, offer_sent(channel="email"))
    assert message.subject == "Our own words for KXT-4QM"


def test_a_translation_is_used_for_a_volunteer_whose_first_language_it_is(
    app_with_own_templates: Flask,
) -> None:
    welsh = the_offer(app_with_own_templates, offer_sent(channel="sms", language="Welsh"))
    assert welsh.body == "Allwch chi helpu gyda KXT-4QM? Atebwch YES neu NO."


def test_without_a_translation_the_shipped_english_is_used(notify_app: Flask) -> None:
    polish = the_offer(notify_app, offer_sent(channel="sms", language="Polish"))
    assert "can you help with dog walking" in polish.body


@pytest.mark.parametrize(
    ("reason", "email", "sms"),
    [
        ("cancelled", "a coordinator has cancelled or closed it", ": it was cancelled or closed, please"),
        ("on_hold", "has put request KXT-4QM on hold", ": it is on hold, please do nothing more for now"),
        ("reassigned", "has given request KXT-4QM to someone else", ": a coordinator gave it to someone"),
        ("stepped_back", "You have paused or stopped volunteering", " as you have paused or stopped."),
        ("accepted_elsewhere", "Someone else has taken it", ": someone else has it."),
    ],
)
def test_a_withdrawn_offer_says_why_without_an_app(reason: str, email: str, sms: str) -> None:
    renderer = Renderer(None)
    values = {"reference": "KXT-4QM", "reason": reason, "volunteer": {"name": "Asha"}}
    subject, body = renderer.render("email", "offer_withdrawn", values)
    assert subject == "No longer needed: KXT-4QM" and email in " ".join(body.split())
    assert sms in renderer.render("sms", "offer_withdrawn", values)[1]
