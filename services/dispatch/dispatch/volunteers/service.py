"""Volunteers: registering them (the API, imports, their own sign-up), proving their email,
approval and the rest of their lifecycle, and their own availability. Someone who stops being
active steps back from what they were offered (dispatch.flows). No Flask, no Celery here."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.deps import Deps, now_utc
from dispatch.flows import step_back
from dispatch.matching import locate
from dispatch.models import AvailabilitySlot, Volunteer, VolunteerArea, VolunteerSkill
from dispatch.volunteers.enums import (
    STATUS_ACTIONS,
    VOLUNTEER_MOVES,
    RowOutcome,
    StatusAction,
    VolunteerStatus,
)
from hub_shared.errors import Conflict, NotFound
from hub_shared.events import VolunteerSignedUp
from hub_shared.schemas import postcode_district
from hub_shared.states import label

SIGN_UP_CONSENT = (
    "I agree that the Community Help Hub keeps my name, contact details, postcode and skills "
    "to offer me requests for help, and shares my name with the people I help. I can ask for "
    "my details to be removed at any time."
)

PROFILE_COLUMNS = (
    "name", "email", "phone", "dbs_checked", "dbs_expires_on", "status", "on_duty",
    "preferred_channel", "continuity", "max_active_tasks", "max_distance_km",
)  # fmt: skip


def get_volunteer(session: Session, volunteer_id: str) -> Volunteer:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("There is no volunteer with that id.")
    return volunteer


def register_volunteer(session: Session, data: dict[str, Any]) -> Volunteer:
    """Add a volunteer (validated by VolunteerIn). Through the API they are active and on duty
    unless the body says otherwise."""
    if session.scalar(select(Volunteer.id).where(Volunteer.email == data["email"])):
        raise Conflict("A volunteer with that email address is already registered.")
    volunteer = Volunteer(
        id=str(uuid.uuid4()), active_tasks=0, created_at=now_utc(), skills=[], areas=[], slots=[]
    )
    apply_profile(session, volunteer, data, set(data))
    session.add(volunteer)
    return volunteer


def apply_profile(session: Session, volunteer: Volunteer, data: dict[str, Any], given: set[str]) -> bool:
    """Set the profile fields named in `given` from validated data; return whether any changed."""
    wanted: dict[str, Any] = {field: data[field] for field in PROFILE_COLUMNS if field in given}
    if "postcode" in given:
        district = postcode_district(data["postcode"])
        wanted |= {"postcode": data["postcode"], "district": district}
        wanted["latitude"], wanted["longitude"] = locate(session, district)
    if "languages" in given:
        wanted["languages"] = ",".join(data["languages"])
    changed = False
    for field, value in wanted.items():
        if getattr(volunteer, field, None) != value:
            setattr(volunteer, field, value)
            changed = True
    if "skills" in given and volunteer.skill_names != sorted(set(data["skills"])):
        volunteer.skills = [VolunteerSkill(skill=skill) for skill in sorted(set(data["skills"]))]
        changed = True
    if "areas" in given and volunteer.area_names != sorted(set(data["areas"])):
        volunteer.areas = [VolunteerArea(district=district) for district in sorted(set(data["areas"]))]
        changed = True
    if "availability" in given:
        slots = sorted((s["weekday"], s["start_minute"], s["end_minute"]) for s in data["availability"])
        if sorted((s.weekday, s.start_minute, s.end_minute) for s in volunteer.slots) != slots:
            volunteer.slots = [AvailabilitySlot(weekday=w, start_minute=a, end_minute=b) for w, a, b in slots]
            changed = True
    return changed


def upsert_volunteer(session: Session, data: dict[str, Any], given: set[str]) -> RowOutcome:
    """Create or update a volunteer found by email, else by phone (for imports, which may run
    twice). Only the fields given change. Returns created, updated or unchanged."""
    volunteer = session.scalar(select(Volunteer).where(Volunteer.email == data["email"]))
    if volunteer is None and data.get("phone"):
        volunteer = session.scalar(select(Volunteer).where(Volunteer.phone == data["phone"]).limit(1))
    if volunteer is None:
        register_volunteer(session, data)
        return RowOutcome.created
    return RowOutcome.updated if apply_profile(session, volunteer, data, given) else RowOutcome.unchanged


def sign_up(session: Session, deps: Deps, data: dict[str, Any]) -> Volunteer | None:
    """A volunteer signs themselves up (validated by SignUpIn): recorded as applied, with the
    consent's wording, and sent a link to verify their email. Someone already registered gets
    nothing new (and the page says the same either way: it must not reveal who volunteers)."""
    if session.scalar(select(Volunteer.id).where(Volunteer.email == data["email"])):
        return None
    now = now_utc()
    volunteer = register_volunteer(session, data | {"status": VolunteerStatus.applied, "on_duty": False})
    volunteer.consent_wording, volunteer.consent_given_at = SIGN_UP_CONSENT, now
    session.flush()
    signed_up = VolunteerSignedUp(volunteer=volunteer.ref(), verify_url=deps.links.verify(volunteer.id))
    deps.bus.publish(session, "volunteer.signed_up", signed_up)
    return volunteer


def verify_email(session: Session, volunteer_id: str) -> Volunteer:
    """The volunteer opened the link we emailed and confirmed: applied becomes verified, for a
    coordinator to approve. Following the link again changes nothing."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("We no longer have this sign-up.")
    if volunteer.email_verified_at is None:
        volunteer.email_verified_at = now_utc()
    if VOLUNTEER_MOVES.allows(volunteer.status, VolunteerStatus.verified):
        volunteer.status = VolunteerStatus.verified
    return volunteer


def change_status(session: Session, deps: Deps, volunteer_id: str, action: StatusAction) -> Volunteer:
    """Move a volunteer along their lifecycle; Conflict (saying why) if the action does not
    apply to their status. Someone pausing or leaving has their open offers withdrawn (those
    requests go on to the next volunteer); someone leaving also gives back accepted tasks."""
    volunteer = get_volunteer(session, volunteer_id)
    allowed, to = STATUS_ACTIONS[action]
    if volunteer.status not in allowed:
        raise Conflict(f"A volunteer who is {label(volunteer.status)} cannot be moved to {label(to)}.")
    volunteer.status = to
    step_back(session, deps, volunteer)
    return volunteer


def change_own_availability(
    session: Session,
    deps: Deps,
    volunteer_id: str,
    *,
    on_duty: bool,
    paused: bool,
    max_active_tasks: int,
    slots: list[dict[str, int]] | None,
) -> Volunteer:
    """A volunteer changes their own availability through their signed link: on duty, weekly
    slots (None: unchanged), how many at once, a pause. Pausing and resuming only moves between
    active and paused: it never approves anyone."""
    volunteer = get_volunteer(session, volunteer_id)
    if slots is not None:
        apply_profile(session, volunteer, {"availability": slots}, {"availability"})
    volunteer.on_duty, volunteer.max_active_tasks = on_duty, max_active_tasks
    if volunteer.status == VolunteerStatus.active and paused:
        change_status(session, deps, volunteer_id, StatusAction.pause)
    elif volunteer.status == VolunteerStatus.paused and not paused:
        change_status(session, deps, volunteer_id, StatusAction.resume)
    return volunteer


def change_volunteer(session: Session, deps: Deps, volunteer_id: str, changes: dict[str, Any]) -> Volunteer:
    """Apply a coordinator's changes (validated by VolunteerChanges). The API may set any status
    (a coordinator correcting a record); leaving `active` has the same effects as on the pages."""
    volunteer = get_volunteer(session, volunteer_id)
    for field, value in changes.items():
        setattr(volunteer, field, value)
    if changes.get("status", VolunteerStatus.active) != VolunteerStatus.active:
        step_back(session, deps, volunteer)
    return volunteer
