"""Scenarios for matching's hard rules: an independent oracle (the rules as dispatch.rules'
docstring states them, written without matching's helpers), hypothesis strategies that make
volunteers who meet each rule unless that rule's attributes are drawn at random, and the edges
random data rarely hits. Used by test_hard_rules.py (the rules, in memory) and
test_matching_query.py (the query, in a database)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from dispatch import scoring
from dispatch.routing import SKILLS
from dispatch.volunteers.enums import VolunteerStatus
from hub_shared.events import NEEDS

# -- the oracle: the rules as the docstring states them, without matching's helpers ------------

# The brief's routing table, restated here so a change to matching's copy is caught.
REQUIRED_SKILL: dict[str, str | None] = {
    "shopping": "shopping",
    "prescription": "prescription_collection",
    "food_parcel": "shopping",
    "befriending": "befriending",
    "dog_walking": "dog_walking",
    "transport": "driving",
    "other": None,
}
NEEDS_DBS_CHECK = {"befriending"}
WEEK = timedelta(days=7)
# Floating point only: the SQL and distance_km measure reach the same way.
REACH_TOLERANCE_KM = 0.0001


def _centroids() -> dict[str, tuple[float, float]]:
    with resources.files("dispatch").joinpath("data/postcode_districts.csv").open() as shipped:
        return {
            row["district"]: (float(row["latitude"]), float(row["longitude"]))
            for row in csv.DictReader(shipped)
        }


CENTROIDS = _centroids()
UNKNOWN_DISTRICT = "SW1A"  # a real district the shipped directory does not know
DISTRICTS = [*sorted(CENTROIDS), UNKNOWN_DISTRICT]


def last_sunday(year: int, month: int) -> date:
    """The last Sunday of a 31-day month (March and October)."""
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def london_wall_clock(now: datetime) -> datetime:
    """UK civil time without zoneinfo: BST (UTC+1) from 01:00 UTC on the last Sunday of March to
    01:00 UTC on the last Sunday of October, GMT otherwise."""
    utc = now.astimezone(UTC)
    summer_starts = datetime.combine(last_sunday(utc.year, 3), time(1), tzinfo=UTC)
    summer_ends = datetime.combine(last_sunday(utc.year, 10), time(1), tzinfo=UTC)
    offset = timedelta(hours=1) if summer_starts <= utc < summer_ends else timedelta(0)
    return (utc + offset).replace(tzinfo=None)


@dataclass(frozen=True)
class SlotSpec:
    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class PastOffer:
    request_id: str
    status: str
    age: timedelta


@dataclass(frozen=True)
class VolunteerSpec:
    id: str
    skills: frozenset[str]
    dbs_checked: bool
    dbs_expires_on: date | None
    status: str
    on_duty: bool
    max_active_tasks: int
    active_tasks: int
    district: str
    max_distance_km: float
    areas: frozenset[str]
    slots: tuple[SlotSpec, ...]
    offers: tuple[PastOffer, ...]


@dataclass(frozen=True)
class RequestSpec:
    id: str
    need: str
    vulnerable: bool
    district: str


@dataclass(frozen=True)
class Verdict:
    broken: tuple[str, ...]  # the hard rules this volunteer fails
    borderline: bool  # passes everything else and is within metres of their reach

    @property
    def passes(self) -> bool:
        return not self.broken and not self.borderline


def judge(v: VolunteerSpec, req: RequestSpec, now: datetime) -> Verdict:
    """Every hard rule, checked one by one for one volunteer."""
    local = london_wall_clock(now)
    minute = local.hour * 60 + local.minute
    broken = []
    skill = REQUIRED_SKILL[req.need]
    if skill is None or skill not in v.skills:
        broken.append("skill")
    if req.need in NEEDS_DBS_CHECK or req.vulnerable:
        still_valid = v.dbs_expires_on is None or v.dbs_expires_on >= local.date()
        if not (v.dbs_checked and still_valid):
            broken.append("dbs")
    if v.status != "active":
        broken.append("status")
    if not v.on_duty:
        broken.append("on duty")
    if not v.active_tasks < v.max_active_tasks:
        broken.append("task limit")
    in_a_slot = any(s.weekday == local.weekday() and s.start_minute <= minute < s.end_minute for s in v.slots)
    if v.slots and not in_a_slot:
        broken.append("slot")
    if any(o.request_id == req.id for o in v.offers):
        broken.append("already asked")
    borderline = False
    covers = req.district in v.areas
    if req.district in CENTROIDS:
        near = False
        if v.district in CENTROIDS:
            km = scoring.distance_km(CENTROIDS[req.district], CENTROIDS[v.district])
            near = km <= v.max_distance_km
            borderline = not covers and abs(km - v.max_distance_km) <= REACH_TOLERANCE_KM
        reachable = covers or near
    else:
        reachable = covers or v.district == req.district
    if not reachable and not borderline:
        broken.append("reach")
    return Verdict(tuple(broken), borderline and not broken)


def expected_score(v: VolunteerSpec, req: RequestSpec) -> float:
    """Distance (the most anyone may set when unknown), plus a penalty per task in hand and per
    offer made to them in the last week (on any request). The weights are matching's to tune."""
    if req.district in CENTROIDS and v.district in CENTROIDS:
        km = scoring.distance_km(CENTROIDS[req.district], CENTROIDS[v.district])
    else:
        km = scoring.MAX_REACH_KM
    recent = sum(1 for o in v.offers if o.age <= WEEK)
    return km + scoring.KM_PER_TASK_IN_HAND * v.active_tasks + scoring.KM_PER_RECENT_OFFER * recent


# -- generating scenarios -------------------------------------------------------------------------

THIS_REQUEST = "r-this"
OTHER_REQUESTS = ("r-other-1", "r-other-2", "r-other-3")
OFFER_STATUSES = ("offered", "declined", "expired", "withdrawn")
OFFER_AGES = (
    timedelta(minutes=5),
    timedelta(days=3),
    timedelta(days=6, hours=23),
    timedelta(days=7, hours=1),
    timedelta(days=20),
)
CLOCK_CHANGES = [
    datetime.combine(last_sunday(year, month), time(1), tzinfo=UTC)
    for year in range(2024, 2029)
    for month in (3, 10)
]

any_moment = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
# The hours around a clock change, where UTC and London weekday, date and minute part.
near_a_clock_change = st.builds(
    lambda change, minutes: change + timedelta(minutes=minutes),
    st.sampled_from(CLOCK_CHANGES),
    st.integers(-26 * 60, 26 * 60),
)
# The hours around midnight, where in summer the UTC and London dates differ.
near_midnight = st.builds(
    lambda day, minutes: datetime.combine(day, time(0), tzinfo=UTC) + timedelta(minutes=minutes),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    st.integers(-150, 90),
)
# A summer's late evening: London is already on the next day.
london_ahead = st.builds(
    lambda day, minutes: datetime.combine(day, time(23), tzinfo=UTC) + timedelta(minutes=minutes),
    st.builds(date, st.integers(2024, 2028), st.integers(4, 9), st.integers(1, 30)),
    st.integers(0, 59),
)
moments = st.one_of(any_moment, near_a_clock_change, near_midnight, london_ahead)


@st.composite
def slots_around(draw: st.DrawFn, local: datetime) -> SlotSpec:
    """A weekly slot, most often one that ends or starts at the London minute now, or is near it."""
    minute = local.hour * 60 + local.minute
    kind = draw(st.sampled_from(["ends now", "starts now", "near", "anywhere"]))
    if kind == "ends now" and minute > 0:
        return SlotSpec(local.weekday(), max(minute - draw(st.integers(1, 120)), 0), minute)
    if kind == "starts now":
        start = min(minute + draw(st.sampled_from([0, 1])), 1439)
        return SlotSpec(local.weekday(), start, min(start + draw(st.integers(1, 120)), 1440))
    if kind == "anywhere":
        weekday = draw(st.integers(0, 6))
        start = draw(st.integers(0, 1439))
        return SlotSpec(weekday, start, draw(st.integers(start + 1, 1440)))
    weekday = (local.weekday() + draw(st.sampled_from([0, -1, 1]))) % 7
    start = min(max(minute + draw(st.integers(-120, 1)), 0), 1439)
    end = min(max(minute + draw(st.integers(0, 120)), start + 1), 1440)
    return SlotSpec(weekday, start, end)


@st.composite
def covering_slot(draw: st.DrawFn, local: datetime) -> SlotSpec:
    """A weekly slot that the London time now falls in (by the oracle's clock)."""
    minute = local.hour * 60 + local.minute
    start = max(minute - draw(st.integers(0, 120)), 0)
    end = min(minute + draw(st.integers(1, 120)), 1440)
    return SlotSpec(local.weekday(), start, end)


@st.composite
def volunteers(draw: st.DrawFn, number: int, now: datetime, request: RequestSpec) -> VolunteerSpec:
    """A volunteer who meets each rule unless that rule's attributes are drawn at random (about one
    time in five each), so near misses on every single rule are common."""
    local = london_wall_clock(now)

    def at_random() -> bool:
        return draw(st.sampled_from([False, False, False, False, True]))

    skill = REQUIRED_SKILL[request.need]
    skills = draw(st.frozensets(st.sampled_from(SKILLS)))
    if skill is not None:
        skills = skills - {skill} if at_random() else skills | {skill}
    dbs = draw(st.sampled_from(["valid", "valid", "expires around today", "at random"]))
    dbs_checked = True if dbs != "at random" else draw(st.booleans())
    expiry_offset = {
        "valid": st.one_of(st.none(), st.integers(0, 400)),
        "expires around today": st.sampled_from([-1, 0, 1]),
        "at random": st.one_of(st.none(), st.integers(-400, 400)),
    }[dbs]
    offset = draw(expiry_offset)
    status = draw(st.sampled_from(list(VolunteerStatus))) if at_random() else "active"
    on_duty = draw(st.booleans()) if at_random() else True
    max_active_tasks = draw(st.integers(1, 3))
    active_tasks = draw(st.integers(0, 4) if at_random() else st.integers(0, max_active_tasks - 1))
    if at_random():
        slots = draw(st.lists(slots_around(local), min_size=1, max_size=3))
    else:
        slots = draw(st.one_of(st.just([]), st.lists(slots_around(local), max_size=2)))
        slots += [draw(covering_slot(local))] if slots else []
    offered = draw(st.sets(st.sampled_from(OTHER_REQUESTS)))
    if at_random():
        offered |= {THIS_REQUEST}
    areas = draw(st.frozensets(st.sampled_from(DISTRICTS), max_size=4))
    district = draw(st.sampled_from(DISTRICTS))
    max_distance_km = draw(st.floats(0.5, 25.0))
    reach = draw(st.sampled_from(["by distance", "covers", "lives there", "at random"]))
    if reach == "covers":
        areas |= {request.district}
    elif reach == "lives there":
        district = request.district
    elif reach == "by distance" and district in CENTROIDS and request.district in CENTROIDS:
        # A limit just short of, or just beyond, how far they live from the request.
        km = scoring.distance_km(CENTROIDS[request.district], CENTROIDS[district])
        beyond = draw(st.one_of(st.sampled_from([-0.05, -0.03, 0.03, 0.05]), st.floats(-1.0, 1.0)))
        max_distance_km = min(max(km + beyond, 0.5), 25.0)
    return VolunteerSpec(
        id=f"v{number:03d}",
        skills=skills,
        dbs_checked=dbs_checked,
        dbs_expires_on=None if offset is None else local.date() + timedelta(days=offset),
        status=status,
        on_duty=on_duty,
        max_active_tasks=max_active_tasks,
        active_tasks=active_tasks,
        district=district,
        max_distance_km=max_distance_km,
        areas=areas,
        slots=tuple(draw(st.permutations(slots))),
        offers=tuple(
            PastOffer(request_id, draw(st.sampled_from(OFFER_STATUSES)), draw(st.sampled_from(OFFER_AGES)))
            for request_id in sorted(offered)
        ),
    )


@dataclass(frozen=True)
class Scenario:
    now: datetime
    request: RequestSpec
    volunteers: tuple[VolunteerSpec, ...]


ANY_NEED = st.sampled_from(NEEDS)


@st.composite
def scenarios(draw: st.DrawFn, needs: st.SearchStrategy[str] = ANY_NEED) -> Scenario:
    now = draw(moments)
    request = RequestSpec(
        id=THIS_REQUEST,
        need=draw(needs),
        vulnerable=draw(st.booleans()),
        district=draw(
            st.one_of(st.just(UNKNOWN_DISTRICT), st.sampled_from(DISTRICTS), st.sampled_from(DISTRICTS))
        ),
    )
    count = draw(st.integers(0, 12))
    return Scenario(now, request, tuple(draw(volunteers(i, now, request)) for i in range(count)))


PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

# Someone who passes every rule for a shopping request from KT1 at any time.
PLAIN = VolunteerSpec(
    id="v-plain",
    skills=frozenset({"shopping"}),
    dbs_checked=True,
    dbs_expires_on=None,
    status="active",
    on_duty=True,
    max_active_tasks=3,
    active_tasks=0,
    district="KT1",
    max_distance_km=5.0,
    areas=frozenset(),
    slots=(),
    offers=(),
)
SHOPPING_IN_KT1 = RequestSpec(THIS_REQUEST, "shopping", False, "KT1")

# Edges random data rarely hits, always tried first.
LONDON_IS_A_DAY_AHEAD = Scenario(  # 00:30 on 2 July in London: a DBS check of 1 July has expired
    datetime(2025, 7, 1, 23, 30, tzinfo=UTC),
    replace(SHOPPING_IN_KT1, vulnerable=True),
    (
        replace(PLAIN, id="v-expired", dbs_expires_on=date(2025, 7, 1)),
        replace(PLAIN, id="v-valid", dbs_expires_on=date(2025, 7, 2)),
    ),
)
CLOCKS_WENT_FORWARD = Scenario(  # 02:30 BST on Sunday 30 March (01:30 UTC)
    datetime(2025, 3, 30, 1, 30, tzinfo=UTC),
    SHOPPING_IN_KT1,
    (
        replace(PLAIN, id="v-bst", slots=(SlotSpec(6, 150, 151),)),
        replace(PLAIN, id="v-utc", slots=(SlotSpec(6, 90, 100),)),
    ),
)
A_SLOT_ENDS_NOW = Scenario(  # 10:00 on Tuesday 7 January (GMT)
    datetime(2025, 1, 7, 10, 0, 59, tzinfo=UTC),
    SHOPPING_IN_KT1,
    (
        replace(PLAIN, id="v-ended", slots=(SlotSpec(1, 540, 600),)),
        replace(PLAIN, id="v-starts", slots=(SlotSpec(1, 600, 601),)),
    ),
)
NOWHERE_KNOWN = Scenario(  # a request from a district the directory does not know
    datetime(2025, 1, 7, 10, 0, tzinfo=UTC),
    replace(SHOPPING_IN_KT1, district=UNKNOWN_DISTRICT),
    (
        replace(PLAIN, id="v-lives-there", district=UNKNOWN_DISTRICT),
        replace(PLAIN, id="v-covers-it", areas=frozenset({UNKNOWN_DISTRICT})),
        replace(PLAIN, id="v-far-reaching", max_distance_km=25.0),
    ),
)
# Someone who just passes every rule for a vulnerable person's befriending: a DBS check that
# expires today, one task at most, 7 km of reach from SW19, a one-minute slot now (12:00 on a
# Tuesday in London), and an offer on another request declined yesterday.
A_KEEN_BEFRIENDER = Scenario(
    datetime(2025, 7, 1, 11, 0, tzinfo=UTC),
    RequestSpec(THIS_REQUEST, "befriending", True, "KT1"),
    (
        replace(
            PLAIN,
            skills=frozenset({"befriending"}),
            dbs_expires_on=date(2025, 7, 1),
            max_active_tasks=1,
            district="SW19",
            max_distance_km=7.0,
            slots=(SlotSpec(weekday=1, start_minute=12 * 60, end_minute=12 * 60 + 1),),
            offers=(PastOffer(OTHER_REQUESTS[0], "declined", timedelta(days=1)),),
        ),
    ),
)
