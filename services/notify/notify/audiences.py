"""Who hears what: each event's messages, to volunteers (on the channel they prefer), partner
groups (email or signed webhook) and requesters (only with their consent, on the channel they
gave). Each handler records messages; service.deliver sends them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub_shared.bus import Handler
from hub_shared.events import Event, PartnerRef, PersonChanged, ReferralSent, RequestSubmitted, VolunteerRef
from notify.enums import ChannelName, Keyword, MessageStatus
from notify.models import Coordinator, Message, Reply, Requester
from notify.service import Render, cancel_reminders, fields_of, now_utc, queue_email, queue_message

# Builds the link a requester follows to say whether they got help: (request id, answer) -> URL.
CheckLink = Callable[[str, str], str]


@dataclass(frozen=True)
class People:
    """Who the handlers write to beyond the event's own people, and the links into intake that
    messages carry (notify.bootstrap makes it from the settings)."""

    check_link: CheckLink  # "did you get help?" links
    request_link: Callable[[str], str]  # intake's page for a request
    coordinators: tuple[str, ...]  # email addresses from HUB_COORDINATORS_EMAIL


def to_volunteer(
    template: str, *, by_sms: bool = True, reminder: bool = False
) -> Callable[[Session, Event[Any], Render], None]:
    """A handler that tells the event's volunteer with `template` on the channel they prefer: by
    SMS if they chose it and gave a phone (and the message has a text version), else by email.
    A reminder waits until shortly before the offer expires, and its answer cancels it."""

    def handle(session: Session, event: Event[Any], render: Render) -> None:
        volunteer: VolunteerRef | None = event.payload.volunteer
        if volunteer is None:
            return  # an older producer that did not name them
        options: dict[str, Any] = {}
        if reminder:
            when = reminder_time(event.payload.expires_at)
            if when is None:
                return  # too late for a reminder to help
            options = {"not_before": when, "subject_id": event.payload.offer_id}
        values = fields_of(event)
        if by_sms and volunteer.channel == ChannelName.sms and volunteer.phone:
            queue_message(
                session,
                event,
                template=template,
                channel=ChannelName.sms,
                recipient=volunteer.phone,
                content=lambda: render(ChannelName.sms, template, values),
                urgent=values.get("urgency") == "urgent",
                **options,
            )
        elif volunteer.email:
            queue_message(
                session,
                event,
                template=template,
                channel=ChannelName.email,
                recipient=volunteer.email,
                content=lambda: render(ChannelName.email, template, values),
                **options,
            )

    return handle


REMINDER_LEAD = timedelta(hours=1)  # at most this long before an offer or referral expires


def reminder_time(expires_at: datetime) -> datetime | None:
    """When to remind: a quarter of the time left before it expires (at most an hour before);
    None if that leaves under a minute."""
    left = expires_at - now_utc()
    when = expires_at - min(left / 4, REMINDER_LEAD)
    return when if left > timedelta(minutes=1) else None


def cancel_reminder(key: str) -> Callable[[Session, Event[Any], Render], None]:
    """A handler that cancels reminders about the offer or referral the event answers."""

    def handle(session: Session, event: Event[Any], _render: Render) -> None:
        cancel_reminders(session, getattr(event.payload, key))

    return handle


def remind_partner(session: Session, event: Event[ReferralSent], render: Render) -> None:
    """A partner taking referrals by email is reminded before the referral expires (a partner's
    system, by webhook, has the expiry time itself)."""
    partner = event.payload.partner
    when = reminder_time(event.payload.expires_at)
    if partner.channel != ChannelName.email or partner.email is None or when is None:
        return
    queue_message(
        session,
        event,
        template="referral_reminder",
        channel=ChannelName.email,
        recipient=partner.email,
        content=lambda: render(ChannelName.email, "referral_reminder", fields_of(event)),
        not_before=when,
        subject_id=event.payload.referral_id,
    )


def to_partner(template: str) -> Callable[[Session, Event[Any], Render], None]:
    """A handler that tells the event's partner group, by email or by a signed webhook (a JSON
    body in the Standard Webhooks shape: type, timestamp, data)."""

    def handle(session: Session, event: Event[Any], render: Render) -> None:
        partner: PartnerRef = event.payload.partner
        if partner.channel == ChannelName.email:
            if partner.email:
                queue_email(session, event, render, template=template, recipient=partner.email)
            return
        data = {key: value for key, value in fields_of(event).items() if key != "partner"}
        body = {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": data}
        queue_message(
            session,
            event,
            template=template,
            channel=ChannelName.webhook,
            recipient=partner.webhook_url or "",
            partner_id=partner.id,
            secret_generation=partner.secret_generation,
            content=lambda: (event.type, json.dumps(body, default=datetime.isoformat, sort_keys=True)),
        )

    return handle


# -- requesters: only with their consent, on the channel they gave ------------------------------


UK_MOBILE = ("+4471", "+4472", "+4473", "+4474", "+4475", "+4477", "+4478", "+4479")  # not 070, 076


def is_mobile(phone: str) -> bool:
    """A number texts can reach: a mobile by the numbering plan's data, or a UK 07 mobile range
    (which also covers Ofcom's ranges reserved for examples, that the data calls unknown)."""
    kind = phonenumbers.number_type(phonenumbers.parse(phone, "GB"))
    mobile_kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return kind in mobile_kinds or phone.startswith(UK_MOBILE)


def requester_channel(phone: str | None, email: str | None) -> tuple[str, str] | None:
    """A mobile gets texts; otherwise an email address gets email; a landline alone gets nothing."""
    if phone and is_mobile(phone):
        return ChannelName.sms, phone
    return (ChannelName.email, email) if email else None


def remember_requester(session: Session, event: Event[RequestSubmitted], render: Render, hub: People) -> None:
    """A new request: keep how to reach the requester, only if they agreed to updates, and
    confirm it with its reference. Without consent nothing of theirs is kept here."""
    p = event.payload
    reach = requester_channel(p.requester.phone, p.requester.email)
    if not p.updates or reach is None or event.request_id is None:
        return
    if session.get(Requester, event.request_id) is None:
        session.add(
            Requester(
                request_id=event.request_id,
                reference=p.reference,
                name=p.requester.name,
                channel=reach[0],
                address=reach[1],
                created_at=now_utc(),
            )
        )
        session.flush()
    to_requester("requester_confirmation")(session, event, render, hub)


def update_requester(session: Session, event: Event[RequestSubmitted], render: Render, hub: People) -> None:
    """An edited request: keep the requester's way to reach them current, or forget it if they
    no longer agree to updates (or gave no way to reach them). Nothing is sent for an edit."""
    p = event.payload
    kept = session.get(Requester, event.request_id) if event.request_id else None
    reach = requester_channel(p.requester.phone, p.requester.email)
    if not p.updates or reach is None:
        if kept is not None:
            session.delete(kept)
        return
    if kept is None:
        remember_requester(session, event, render, hub)  # they agree now: confirm, as for a new one
        return
    kept.name, kept.channel, kept.address = p.requester.name, reach[0], reach[1]


def to_requester(template: str) -> Callable[[Session, Event[Any], Render, People], None]:
    """A handler that tells the request's requester, if they agreed to updates."""

    def handle(session: Session, event: Event[Any], render: Render, hub: People) -> None:
        requester = session.get(Requester, event.request_id) if event.request_id else None
        if requester is None:
            return  # no consent, or not ours
        values = fields_of(event) | {
            "reference": requester.reference,
            "requester_name": requester.name,
            "got_help_url": hub.check_link(requester.request_id, "yes"),
            "no_help_url": hub.check_link(requester.request_id, "no"),
        }
        queue_message(
            session,
            event,
            template=template,
            channel=requester.channel,
            recipient=requester.address,
            content=lambda: render(requester.channel, template, values),
            urgent=False,
        )

    return handle


Audience = Callable[[Session, Event[Any], Render, People], None]


def plain(handle: Callable[[Session, Event[Any], Render], None]) -> Audience:
    """An audience that needs nothing of the hub beyond the event."""
    return lambda session, event, render, _hub: handle(session, event, render)


def coordinators(session: Session, hub: People) -> list[str]:
    """Everyone with the coordinator role in intake, and any address in HUB_COORDINATORS_EMAIL."""
    people = session.scalars(select(Coordinator.email).order_by(Coordinator.email))
    return list(dict.fromkeys([*hub.coordinators, *people]))


def remember_coordinator(session: Session, event: Event[PersonChanged], render: Render, hub: People) -> None:
    """intake added or changed a person: keep them if they coordinate, else forget them."""
    p = event.payload
    kept = session.get(Coordinator, p.person_id)
    if p.role == "coordinator" and p.active:
        if kept is None:
            session.add(Coordinator(person_id=p.person_id, email=p.email))
        else:
            kept.email = p.email
    elif kept is not None:
        session.delete(kept)


def to_coordinators(template: str) -> Audience:
    """Tell the coordinators as it happens, with a link to the request."""

    def handle(session: Session, event: Event[Any], render: Render, hub: People) -> None:
        values = fields_of(event) | {"request_url": hub.request_link(event.request_id or "")}
        email_coordinators(session, event, template, values, render, coordinators(session, hub))

    return handle


def email_coordinators(
    session: Session, event: Event[Any], template: str, values: dict[str, Any], render: Render, to: list[str]
) -> None:
    for address in to:
        queue_message(
            session,
            event,
            template=template,
            channel=ChannelName.email,
            recipient=address,
            content=lambda: render(ChannelName.email, template, values),
        )


tell_of_safeguarding = to_coordinators("safeguarding")


def safeguarding_concern(
    session: Session, event: Event[RequestSubmitted], render: Render, hub: People
) -> None:
    if event.payload.safeguarding:
        tell_of_safeguarding(session, event, render, hub)


# Every message each event calls for, in order.
TO_PEOPLE: dict[str, list[Audience]] = {
    "request.submitted": [remember_requester, safeguarding_concern],
    "request.updated": [update_requester],
    "person.changed": [remember_coordinator],
    "request.escalated": [to_coordinators("escalation")],
    "offer.sent": [
        plain(to_volunteer("offer")),
        plain(to_volunteer("offer_reminder", reminder=True)),
    ],
    "offer.accepted": [
        plain(cancel_reminder("offer_id")),
        plain(to_volunteer("offer_accepted")),
        to_requester("requester_helper_found"),
    ],
    "offer.declined": [plain(cancel_reminder("offer_id"))],
    "offer.expired": [plain(cancel_reminder("offer_id"))],
    "offer.withdrawn": [
        plain(cancel_reminder("offer_id")),
        plain(to_volunteer("offer_withdrawn")),
    ],
    "task.completed": [plain(to_volunteer("thanks")), to_requester("requester_check")],
    "volunteer.signed_up": [plain(to_volunteer("verify_email", by_sms=False))],  # it proves the email
    "referral.sent": [plain(to_partner("referral")), plain(remind_partner)],
    "referral.accepted": [
        plain(cancel_reminder("referral_id")),
        plain(to_partner("referral_accepted")),
        to_requester("requester_partner_found"),
    ],
    "referral.rejected": [plain(cancel_reminder("referral_id"))],
    "referral.expired": [plain(cancel_reminder("referral_id"))],
    "referral.completed": [to_requester("requester_check")],
    "referral.withdrawn": [plain(cancel_reminder("referral_id")), plain(to_partner("referral_withdrawn"))],
}


def handlers(render: Render, hub: People) -> dict[str, Handler]:
    """The handler table: each event type's audiences, in order (made once, by the bootstrap)."""

    def handler(audiences: list[Audience]) -> Handler:
        def handle(session: Session, event: Event[Any]) -> None:
            for audience in audiences:
                audience(session, event, render, hub)

        return handle

    return {event_type: handler(audiences) for event_type, audiences in TO_PEOPLE.items()}


# -- coordinators: replies the hub cannot act on, and the daily digest ---------------------------


def reply_to_coordinators(session: Session, reply: Reply, render: Render, hub: People) -> None:
    """A text that is not YES, NO, DONE or STOP goes to the coordinators to read."""
    event: Event[None] = Event(type="reply.received", payload=None, id=f"reply-{reply.id}")
    values = {"sender": reply.sender, "body": reply.body, "received_at": reply.received_at}
    email_coordinators(session, event, "reply_for_coordinators", values, render, coordinators(session, hub))


def queue_digest(session: Session, render: Render, hub: People, now: datetime) -> int:
    """The coordinators' daily digest of the last day's messages: how many went, on which
    channel, which failed and why (to retry them), escalations and replies to read. Once a
    day per coordinator, however often it is asked for. Returns how many were queued."""
    since = now - timedelta(days=1)
    counts = session.execute(
        select(Message.channel, Message.status, func.count())
        .where(Message.created_at >= since)
        .group_by(Message.channel, Message.status)
        .order_by(Message.channel, Message.status)
    ).all()
    failed = session.scalars(
        select(Message)
        .where(Message.created_at >= since, Message.status == MessageStatus.failed)
        .order_by(Message.created_at)
    ).all()
    escalations = session.scalar(
        select(func.count()).where(Message.created_at >= since, Message.template == "escalation")
    )
    replies = session.scalar(
        select(func.count()).where(Reply.received_at >= since, Reply.keyword == Keyword.other)
    )
    addresses = coordinators(session, hub)
    # Keywords, not quoted keys: the template's names (an admin's own digest.txt uses them too).
    values: dict[str, Any] = dict(
        day=now.date(),
        counts=counts,
        failed=failed,
        escalations=(escalations or 0) // max(len(addresses), 1),
        replies=replies or 0,
    )
    event: Event[None] = Event(type="notification.sent", payload=None, id=f"digest-{now.date().isoformat()}")
    email_coordinators(session, event, "digest", values, render, addresses)
    return len(addresses)
