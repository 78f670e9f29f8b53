"""The hard rules, as a decision on plain facts: may this volunteer be offered this request?

Nobody is offered a request without: the skill the need requires; a DBS check that has not
expired where the need or the person's vulnerability calls for one; being active, on duty and
inside one of their weekly slots (none set: any time), in Europe/London; being below their
task limit; not having been asked about this request before; and being within reach (a
district they cover, or no further from home than they said they would go; where the request's
place is unknown, their own district).

The matching query (dispatch.matching) applies the same rules inside its index, which is how
thousands of volunteers are ruled on in milliseconds. Before an offer goes out, the volunteer
chosen is checked here as well, so a rule holds even if the two ever disagreed (and tests keep
them in step). No database, Flask or Celery here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dispatch.scoring import distance_km
from dispatch.volunteers.enums import VolunteerStatus

LONDON = ZoneInfo("Europe/London")

Place = tuple[float, float]  # (latitude, longitude)


@dataclass(frozen=True)
class Slot:
    weekday: int  # Monday 0 ... Sunday 6, London time
    start_minute: int
    end_minute: int  # exclusive


@dataclass(frozen=True)
class VolunteerFacts:
    status: str
    on_duty: bool
    active_tasks: int
    max_active_tasks: int
    skills: frozenset[str]
    dbs_checked: bool
    dbs_expires_on: date | None
    slots: tuple[Slot, ...]
    asked_already: bool  # offered this request before, whatever they answered
    district: str
    areas: frozenset[str]  # districts they cover, wherever they live
    home: Place | None
    max_distance_km: float


@dataclass(frozen=True)
class RequestFacts:
    skill: str | None  # None: no volunteer can take this need
    dbs_required: bool
    district: str
    place: Place | None


def broken_rules(volunteer: VolunteerFacts, request: RequestFacts, now: datetime) -> list[str]:
    """The hard rules this volunteer fails for this request now; none: they may be offered it."""
    local = now.astimezone(LONDON)
    minute = local.hour * 60 + local.minute
    broken = []
    if request.skill is None or request.skill not in volunteer.skills:
        broken.append("skill")
    if request.dbs_required and not dbs_valid(volunteer, local.date()):
        broken.append("dbs")
    if volunteer.status != VolunteerStatus.active:
        broken.append("status")
    if not volunteer.on_duty:
        broken.append("on duty")
    if volunteer.active_tasks >= volunteer.max_active_tasks:
        broken.append("task limit")
    in_a_slot = any(
        s.weekday == local.weekday() and s.start_minute <= minute < s.end_minute for s in volunteer.slots
    )
    if volunteer.slots and not in_a_slot:
        broken.append("slot")
    if volunteer.asked_already:
        broken.append("already asked")
    if not within_reach(volunteer, request):
        broken.append("reach")
    return broken


def dbs_valid(volunteer: VolunteerFacts, today: date) -> bool:
    """A DBS check with no expiry date counts as valid; one past its expiry does not."""
    expires = volunteer.dbs_expires_on
    return volunteer.dbs_checked and (expires is None or expires >= today)


def within_reach(volunteer: VolunteerFacts, request: RequestFacts) -> bool:
    if request.district in volunteer.areas:
        return True
    if request.place is None:
        return volunteer.district == request.district
    if volunteer.home is None:
        return False
    return distance_km(request.place, volunteer.home) <= volunteer.max_distance_km
