"""What people ask of a request: record it, edit it, add a call to it, and the coordinators'
actions (a note, a call, escalate, hold, close, cancel, merge, reopen); and the requester's
answer to "did you get help?". No Flask and no Celery here."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from hub_shared.bus import Bus
from hub_shared.errors import Conflict, NotFound
from hub_shared.events import Contact, RequestEnded, RequestEscalated, RequestSubmitted
from hub_shared.schemas import postcode_district
from hub_shared.states import IllegalMove
from intake.council.wards import ward_of
from intake.models import HelpRequest, Person, RequestLook, TimelineEntry
from intake.requests.enums import (
    ENDED,
    FINISHED,
    REQUEST_MOVES,
    Ending,
    EntryKind,
    RequestStatus,
)
from intake.requests.queue import DUE_WITHIN

# Read over the phone: no 0/O, 1/I/L, 2/Z, 5/S, 8/B lookalikes. 23**6 is about 148 million.
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY347"
REFERENCE_HALF = 3


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_reference() -> str:
    """A reference like KXT-4QM: short, unambiguous and easy to read back to a caller."""
    chars = [secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_HALF * 2)]
    return "".join(chars[:REFERENCE_HALF]) + "-" + "".join(chars[REFERENCE_HALF:])


def submit_request(session: Session, bus: Bus, data: dict[str, Any]) -> HelpRequest:
    """Record a request for help (validated by RequestIn) and announce it to dispatch."""
    now = now_utc()
    requester = data["requester"]
    reference = new_reference()
    while session.scalar(select(HelpRequest.id).where(HelpRequest.reference == reference)):
        reference = new_reference()
    request = HelpRequest(
        id=str(uuid.uuid4()),
        reference=reference,
        status=RequestStatus.submitted,
        need=data["need"],
        urgency=data["urgency"],
        details=data["details"],
        vulnerable=data["vulnerable"],
        safeguarding=data["safeguarding"],
        requester_name=requester["name"],
        requester_phone=requester.get("phone"),
        requester_email=requester.get("email"),
        requester_postcode=requester["postcode"],
        requester_address=requester["address"],
        consent_data_processing=data["consent"]["data_processing"],
        consent_same_volunteer=data["consent"]["same_volunteer"],
        consent_updates=data["consent"]["updates"],
        consent_wording=data["consent"]["wording"],
        caller_name=(data.get("caller") or {}).get("name"),
        caller_relation=(data.get("caller") or {}).get("relation"),
        caller_contact=(data.get("caller") or {}).get("contact"),
        district=postcode_district(requester["postcode"]),
        ward=ward_of(session, requester["postcode"]),
        created_at=now,
        due_at=now + DUE_WITHIN[data["urgency"]],
        status_changed_at=now,
        last_progress_at=now,
    )
    session.add(request)
    session.add(TimelineEntry(request=request, at=now, kind=EntryKind.submitted, summary="Request recorded"))
    bus.publish(session, "request.submitted", announced(request), request_id=request.id)
    return request


def announced(request: HelpRequest) -> RequestSubmitted:
    """What dispatch and notify are told of a request (when submitted, and after an edit)."""
    return RequestSubmitted(
        reference=request.reference,
        need=request.need,
        urgency=request.urgency,
        details=request.details,
        vulnerable=request.vulnerable,
        safeguarding=request.safeguarding,
        continuity=request.consent_same_volunteer,
        updates=request.consent_updates,
        requester=Contact(
            name=request.requester_name,
            phone=request.requester_phone,
            email=request.requester_email,
            postcode=request.requester_postcode,
            address=request.requester_address,
        ),
    )


EDITABLE = {  # column: (where it is in RequestIn's data, what the timeline calls it)
    "requester_name": (("requester", "name"), "name"),
    "requester_phone": (("requester", "phone"), "phone"),
    "requester_email": (("requester", "email"), "email"),
    "requester_postcode": (("requester", "postcode"), "postcode"),
    "requester_address": (("requester", "address"), "address"),
    "need": (("need",), "need"),
    "urgency": (("urgency",), "urgency"),
    "details": (("details",), "details"),
    "vulnerable": (("vulnerable",), "vulnerable"),
    "safeguarding": (("safeguarding",), "safeguarding"),
    "consent_same_volunteer": (("consent", "same_volunteer"), "same volunteer"),
    "consent_updates": (("consent", "updates"), "updates"),
    "caller_name": (("caller", "name"), "caller"),
    "caller_relation": (("caller", "relation"), "caller"),
    "caller_contact": (("caller", "contact"), "caller"),
}


def edit_request(session: Session, bus: Bus, request_id: str, data: dict[str, Any], actor: str) -> list[str]:
    """Change a request's details (validated by RequestIn); the timeline names what changed (not
    the values) and dispatch gets the request as it is now. Returns what changed."""
    request = get_request(session, request_id, for_update=True)
    if request.status in FINISHED:
        raise Conflict(f"It is {request.status}: reopen it first.")
    concern_raised = data["safeguarding"] and not request.safeguarding
    changed: list[str] = []
    for column, (path, label) in EDITABLE.items():
        value: Any = data
        for key in path:
            value = (value or {}).get(key)
        if getattr(request, column) != value:
            setattr(request, column, value)
            changed.append(label)
    if not changed:
        return []
    request.district = postcode_district(request.requester_postcode)
    request.ward = ward_of(session, request.requester_postcode)
    request.due_at = request.created_at + DUE_WITHIN[request.urgency]
    labels = list(dict.fromkeys(changed))
    act(session, request, EntryKind.edited, f"Edited: {', '.join(labels)}", actor)
    bus.publish(session, "request.updated", announced(request), request_id=request.id)
    if concern_raised and request.status != RequestStatus.escalated:
        escalate(session, bus, request_id, "a safeguarding concern was added to the request", actor)
    return labels


def get_request(session: Session, request_id: str, *, for_update: bool = False) -> HelpRequest:
    """The request, with its timeline. `for_update`: locked until the transaction ends (on
    PostgreSQL; on SQLite the unit of work holds the write lock from its start), so two
    coordinators acting at once take turns and the second sees the first's change."""
    request = session.get(HelpRequest, request_id, with_for_update=for_update)
    if request is None:
        raise NotFound("There is no request with that id.")
    request.timeline  # load it while the session is open  # noqa: B018
    return request


def requester_answered(session: Session, bus: Bus, request_id: str, got_help: bool) -> HelpRequest:
    """The requester's answer to "did you get help?" (from the link in the check message). Yes
    closes a completed request; no reopens it, escalated, and the coordinators are told."""
    request = session.get(HelpRequest, request_id)
    if request is None:
        raise NotFound("We no longer have this request.")
    now = now_utc()
    if got_help:
        summary = "The requester says they got the help they needed"
        if request.status == RequestStatus.completed:
            move(request, RequestStatus.closed)
            summary += ": closed"
    else:
        move(request, RequestStatus.escalated)
        summary = "The requester says they did not get help: a coordinator should call them"
        reason = "the requester says they did not get help"
        escalated = RequestEscalated(reason=reason, reference=request.reference)
        bus.publish(session, "request.escalated", escalated, request_id=request.id)
    request.last_progress_at = now
    session.add(TimelineEntry(request=request, at=now, kind=EntryKind.requester_answered, summary=summary))
    return request


# -- coordinators' actions on a request ---------------------------------------------------------

CLOSE_REASONS = {
    "helped": "Helped",
    "no_longer_needed": "No longer needed",
    "helped_elsewhere": "Helped by someone else (family, GP, another service)",
    "could_not_help": "We could not help",
    "could_not_reach": "Could not reach them",
    "duplicate": "A duplicate of another request",
}


def act(session: Session, request: HelpRequest, kind: str, summary: str, actor: str) -> HelpRequest:
    """Put what a person did on the request's timeline, with who did it."""
    now = now_utc()
    session.add(TimelineEntry(request=request, at=now, kind=kind, summary=summary, actor=actor))
    request.last_progress_at = now
    return request


def move(request: HelpRequest, status: RequestStatus, refused: str | None = None) -> None:
    """A move a person or a use case asks for: refused (409, with `refused` or the table's own
    sentence) unless the request's table allows it."""
    if refused is not None and not REQUEST_MOVES.allows(request.status, status):
        raise IllegalMove(refused)
    REQUEST_MOVES.check(request.status, status)
    request.status, request.status_changed_at = status, now_utc()


def add_note(session: Session, request_id: str, text: str, actor: str) -> HelpRequest:
    return act(session, get_request(session, request_id), EntryKind.note, text, actor)


def log_call(session: Session, request_id: str, with_whom: str, outcome: str, actor: str) -> HelpRequest:
    return act(
        session, get_request(session, request_id), EntryKind.call, f"Call with {with_whom}: {outcome}", actor
    )


def escalate(session: Session, bus: Bus, request_id: str, reason: str, actor: str) -> HelpRequest:
    request = get_request(session, request_id, for_update=True)
    if request.status in FINISHED:  # (the table lets only reopening take it back to escalated)
        raise Conflict(f"It is {request.status}: reopen it first.")
    if request.status == RequestStatus.escalated:
        raise Conflict("It is escalated already.")
    move(request, RequestStatus.escalated)
    act(session, request, EntryKind.escalated, f"Escalated: {reason}", actor)
    escalated = RequestEscalated(reason=reason, reference=request.reference, raised_by="coordinator")
    bus.publish(session, "request.escalated", escalated, request_id=request.id)
    return request


def hold(session: Session, bus: Bus, request_id: str, reason: str, actor: str) -> HelpRequest:
    request = get_request(session, request_id, for_update=True)
    move(request, RequestStatus.on_hold, refused=f"It is {request.status.replace('_', ' ')} already.")
    act(session, request, EntryKind.on_hold, f"Put on hold: {reason}", actor)
    bus.publish(session, "request.held", RequestEnded(reason=reason), request_id=request.id)
    return request


def end(session: Session, bus: Bus, request_id: str, how: str, reason: str, actor: str) -> HelpRequest:
    """Cancel (it is no longer wanted) or close (with one of CLOSE_REASONS) a request; dispatch
    stops asking anyone about it."""
    request = get_request(session, request_id, for_update=True)
    status = RequestStatus.cancelled if how == Ending.cancel else RequestStatus.closed
    move(request, status, refused=f"It is {request.status} already.")
    act(session, request, EntryKind(status), f"{status.capitalize()}: {reason}", actor)
    bus.publish(session, f"request.{status}", RequestEnded(reason=reason), request_id=request.id)
    return request


def merge(session: Session, bus: Bus, request_id: str, into_reference: str, actor: str) -> HelpRequest:
    """A duplicate: this request is closed as a duplicate of the one with `into_reference`,
    each timeline says so, and nothing of this one is deleted."""
    request = get_request(session, request_id, for_update=True)
    target = session.scalar(
        select(HelpRequest).where(HelpRequest.reference == into_reference.strip().upper())
    )
    if target is None:
        raise Conflict("There is no request with that reference.")
    if target.id == request.id:
        raise Conflict("A request cannot be merged into itself.")
    if target.status in ENDED:
        raise Conflict(f"{target.reference} is {target.status}: reopen it first, or merge the other way.")
    act(session, target, EntryKind.merged, f"{request.reference} was merged into this request", actor)
    return end(session, bus, request_id, Ending.close, f"A duplicate of {target.reference}", actor)


def reopen(session: Session, bus: Bus, request_id: str, reason: str, actor: str) -> HelpRequest:
    """Back into the queue as escalated, and dispatch looks for help again (whoever was asked
    before is not asked again)."""
    request = get_request(session, request_id, for_update=True)
    if request.status not in (*FINISHED, RequestStatus.on_hold):
        raise Conflict("It is open already.")
    move(request, RequestStatus.escalated)
    act(session, request, EntryKind.reopened, f"Reopened: {reason}", actor)
    bus.publish(session, "request.reopened", RequestEnded(reason=reason), request_id=request.id)
    return request


def look_at(session: Session, request_id: str, person_id: str | None) -> tuple[HelpRequest, list[str]]:
    """A request for a coordinator's page, with its ranking loaded, and the email addresses of
    the others who opened it in the last 10 minutes. Each look at personal data is kept."""
    request = get_request(session, request_id)
    request.candidates  # load it while the session is open  # noqa: B018
    if person_id is None:
        return request, []
    others = note_look(session, request_id, person_id)
    if not others:
        return request, []
    return request, list(session.scalars(select(Person.email).where(Person.id.in_(others))))


def note_look(session: Session, request_id: str, person_id: str) -> list[str]:
    """Keep that this person opened the request; the ids of others who did in the last 10 minutes."""
    now = now_utc()
    session.add(RequestLook(request_id=request_id, person_id=person_id, at=now))
    others = select(RequestLook.person_id).where(
        RequestLook.request_id == request_id,
        RequestLook.at > now - LOOK_WINDOW,
        RequestLook.person_id != person_id,
    )
    return list(session.scalars(others.distinct()))


LOOK_WINDOW = timedelta(minutes=10)


def possible_duplicates(session: Session, data: dict[str, Any]) -> list[HelpRequest]:
    """Open requests for the same phone, or the same address and postcode, newest first: the
    coordinator is asked before a second one is recorded."""
    requester = data["requester"]
    same_address = and_(
        HelpRequest.requester_postcode == requester["postcode"],
        func.lower(HelpRequest.requester_address) == requester["address"].strip().lower(),
    )
    same = (
        or_(HelpRequest.requester_phone == requester["phone"], same_address)
        if requester.get("phone")
        else same_address
    )
    query = select(HelpRequest).where(same, HelpRequest.status.not_in(FINISHED))
    return list(session.scalars(query.order_by(HelpRequest.created_at.desc()).limit(5)))


def add_call_to(session: Session, bus: Bus, request_id: str, data: dict[str, Any], actor: str) -> HelpRequest:
    """A call about a request already open: kept on its timeline instead of a second request,
    with everything the caller said that the request does not already hold. A safeguarding
    concern raised on this call marks the request and escalates it (coordinators are told)."""
    request = get_request(session, request_id, for_update=True)
    if request.status in FINISHED:
        raise Conflict(f"{request.reference} is {request.status}: save this call as a new request.")
    caller = data.get("caller")
    who = "the requester"
    if caller:
        contact = f", {caller['contact']}" if caller.get("contact") else ""
        who = f"{caller['name']} ({caller['relation']}{contact})"
    said = [
        f"about {data['need'].replace('_', ' ')} ({data['urgency']})",
        data["details"] or "no new details",
    ]
    requester = data["requester"]
    given_address = f"{requester['address']}, {requester['postcode']}"
    kept_address = f"{request.requester_address}, {request.requester_postcode}"
    for label, given, kept in (
        ("name", requester["name"], request.requester_name),
        ("phone", requester.get("phone"), request.requester_phone),
        ("email", requester.get("email"), request.requester_email),
        ("address", given_address, kept_address),
    ):
        if given and given.strip().lower() != (kept or "").strip().lower():
            said.append(f"{label} given as {given}")
    if data["vulnerable"] and not request.vulnerable:
        said.append("said to be vulnerable")
    act(session, request, EntryKind.call, f"Another call from {who}: " + "; ".join(said), actor)
    if data["safeguarding"] and not request.safeguarding:
        request.safeguarding = True
        if request.status != RequestStatus.escalated:
            escalate(session, bus, request_id, "a safeguarding concern was raised on another call", actor)
    return request
