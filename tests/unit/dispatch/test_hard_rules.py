"""Property tests of the hard rules (dispatch.rules), in memory: for random volunteers and a
random request, the rules a volunteer fails are exactly those the independent oracle
(scenarios.py) says they fail. No app, no database: test_matching_query.py holds the query
that applies the same rules inside its index to the same oracle."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import event, example, given

from dispatch import scoring
from dispatch.routing import SHIPPED_ROUTING
from dispatch.rules import RequestFacts, Slot, VolunteerFacts, broken_rules
from hub_shared.events import NEEDS
from tests.unit.dispatch.scenarios import (
    A_KEEN_BEFRIENDER,
    A_SLOT_ENDS_NOW,
    CENTROIDS,
    CLOCKS_WENT_FORWARD,
    LONDON_IS_A_DAY_AHEAD,
    NEEDS_DBS_CHECK,
    NOWHERE_KNOWN,
    PLAIN,
    PROPERTY_SETTINGS,
    REQUIRED_SKILL,
    THIS_REQUEST,
    PastOffer,
    RequestSpec,
    Scenario,
    SlotSpec,
    VolunteerSpec,
    judge,
    london_wall_clock,
    scenarios,
)


def facts_of(v: VolunteerSpec, request: RequestSpec) -> VolunteerFacts:
    """What matching knows of a volunteer, as dispatch.rules takes it."""
    return VolunteerFacts(
        status=v.status,
        on_duty=v.on_duty,
        active_tasks=v.active_tasks,
        max_active_tasks=v.max_active_tasks,
        skills=v.skills,
        dbs_checked=v.dbs_checked,
        dbs_expires_on=v.dbs_expires_on,
        slots=tuple(Slot(s.weekday, s.start_minute, s.end_minute) for s in v.slots),
        asked_already=any(o.request_id == request.id for o in v.offers),
        district=v.district,
        areas=v.areas,
        home=CENTROIDS.get(v.district),
        max_distance_km=v.max_distance_km,
    )


def request_facts(request: RequestSpec) -> RequestFacts:
    return RequestFacts(
        skill=SHIPPED_ROUTING.rule(request.need).skill,
        dbs_required=SHIPPED_ROUTING.needs_dbs(request.need, request.vulnerable),
        district=request.district,
        place=CENTROIDS.get(request.district),
    )


def broken(v: VolunteerSpec, scenario: Scenario) -> set[str]:
    return set(broken_rules(facts_of(v, scenario.request), request_facts(scenario.request), scenario.now))


# -- the properties --------------------------------------------------------------------------------


def test_the_oracle_knows_every_need() -> None:
    """The oracle's routing table covers every need an event may carry, and agrees with the
    shipped routing file's (which matching follows)."""
    assert set(REQUIRED_SKILL) == set(NEEDS)
    assert {need: rule.skill for need, rule in SHIPPED_ROUTING.needs.items()} == REQUIRED_SKILL
    assert {need for need, rule in SHIPPED_ROUTING.needs.items() if rule.dbs} == NEEDS_DBS_CHECK
    assert SHIPPED_ROUTING.vulnerable_needs_dbs


@pytest.mark.parametrize(
    ("utc", "london"),
    [
        (datetime(2025, 3, 30, 0, 59, tzinfo=UTC), datetime(2025, 3, 30, 0, 59)),
        (datetime(2025, 3, 30, 1, 0, tzinfo=UTC), datetime(2025, 3, 30, 2, 0)),
        (datetime(2025, 10, 26, 0, 59, tzinfo=UTC), datetime(2025, 10, 26, 1, 59)),
        (datetime(2025, 10, 26, 1, 0, tzinfo=UTC), datetime(2025, 10, 26, 1, 0)),
        (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), datetime(2026, 7, 1, 0, 30)),
    ],
)
def test_the_oracle_keeps_uk_time(utc: datetime, london: datetime) -> None:
    """The oracle's own UK clock changes at 01:00 UTC on the last Sundays of March and October."""
    assert london_wall_clock(utc) == london


@PROPERTY_SETTINGS
@given(scenario=scenarios())
@example(scenario=LONDON_IS_A_DAY_AHEAD)
@example(scenario=CLOCKS_WENT_FORWARD)
@example(scenario=A_SLOT_ENDS_NOW)
@example(scenario=NOWHERE_KNOWN)
def test_the_rules_broken_are_exactly_the_oracles(scenario: Scenario) -> None:
    """For every volunteer, the rules dispatch.rules says they break are the oracle's (at the
    very edge of their reach, floating point may decide either way)."""
    for v in scenario.volunteers:
        verdict = judge(v, scenario.request, scenario.now)
        found = broken(v, scenario)
        if len(verdict.broken) == 1:
            event(f"fails only: {verdict.broken[0]}")
        if verdict.borderline:
            found.discard("reach")
        assert found == set(verdict.broken), (v.id, sorted(found), verdict.broken)


def test_a_volunteer_who_passes_every_rule_passes() -> None:
    """The oracle and the rules agree on a plain match, so the property is not vacuous."""
    scenario = A_KEEN_BEFRIENDER
    [keen] = scenario.volunteers
    now = scenario.now
    assert judge(keen, scenario.request, now).passes
    assert broken(keen, scenario) == set()


def test_each_rule_alone_is_broken_by_its_own_attribute() -> None:
    now = datetime(2025, 7, 1, 11, 0, tzinfo=UTC)  # a Tuesday, 12:00 in London
    scenario = Scenario(now, RequestSpec(THIS_REQUEST, "shopping", False, "KT1"), ())
    misses = {
        "skill": replace(PLAIN, skills=frozenset({"driving"})),
        "status": replace(PLAIN, status="paused"),
        "on duty": replace(PLAIN, on_duty=False),
        "task limit": replace(PLAIN, active_tasks=3),
        "slot": replace(PLAIN, slots=(SlotSpec(weekday=2, start_minute=0, end_minute=1440),)),
        "already asked": replace(PLAIN, offers=(PastOffer(THIS_REQUEST, "declined", timedelta(hours=1)),)),
        "reach": replace(PLAIN, district="CR4", max_distance_km=1.0),
    }
    for rule, volunteer in misses.items():
        assert broken(volunteer, scenario) == {rule}, rule
    vulnerable = replace(scenario, request=replace(scenario.request, vulnerable=True))
    assert broken(replace(PLAIN, dbs_checked=False), vulnerable) == {"dbs"}


def test_reach_agrees_with_distance_km_at_the_limit() -> None:
    """A volunteer whose limit is 5 m short of the distance is out of reach."""
    now = datetime(2025, 7, 1, 11, 0, tzinfo=UTC)
    km = scoring.distance_km(CENTROIDS["CR4"], CENTROIDS["KT22"])  # from the request: about 16.48 km
    careful = replace(PLAIN, district="KT22", dbs_checked=False, max_distance_km=km - 0.005)
    scenario = Scenario(now, RequestSpec(THIS_REQUEST, "shopping", False, "CR4"), (careful,))
    assert broken(careful, scenario) == {"reach"}
    assert broken(replace(careful, max_distance_km=km + 0.005), scenario) == set()
