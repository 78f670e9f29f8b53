"""Referrals to partner groups: the routing file sends a need to a partner first (or after the
volunteers); the partner accepts or says no (with a reason) by signed link or by its API
token; no answer in time, or a no, sends the request on; a partner at capacity gets no more."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from dispatch.flows import expire_referrals
from dispatch.jobs.service import receive_request
from dispatch.models import Job, PartnerDay, Referral
from dispatch.policy import Policy
from dispatch.referrals.service import london_day, take_capacity
from dispatch.routing import SHIPPED_ROUTING, load_routing
from hub_shared.config import ConfigError
from hub_shared.events import new_event
from tests.support.events import request_submitted_payload
from tests.support.routing import partner, routing_file
from tests.unit.conftest import client_as, hub_of, make_app, outbox
from tests.unit.dispatch.helpers import deps_for, dispatch_of, volunteer

FOODBANK = partner(name="Kingston Foodbank", areas=["KT1", "KT2"], capacity_per_day=2)
PANTRY = partner(
    name="Community Pantry", capacity_per_day=1, channel="webhook", webhook_url="https://pantry.test/hook"
)
RUNNERS = partner(
    name="Good Runners", needs=["shopping"], channel="webhook", webhook_url="https://runners.test/hook"
)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """dispatch with food parcels going to the Foodbank (KT1, KT2), then the Pantry (anywhere,
    one a day), then volunteers; shopping to volunteers first, then the Runners."""
    path = routing_file(tmp_path, {"foodbank": FOODBANK, "pantry": PANTRY, "runners": RUNNERS})
    yield from make_app(tmp_path, "dispatch", HUB_ROUTING_FILE=str(path))


def policy(app: Flask) -> Policy:
    return dispatch_of(app).deps.policy


def submit(app: Flask, **overrides: Any) -> str:
    """intake's request.submitted arrives (a food parcel in KT1 unless overridden); its id."""
    payload = request_submitted_payload(need="food_parcel") | overrides
    event = new_event("request.submitted", payload, request_id=str(uuid.uuid4()))
    hub = hub_of(app)
    with hub.db.transaction() as session:
        receive_request(session, deps_for(app), event)
    assert event.request_id is not None
    return event.request_id


def in_area(postcode: str) -> dict[str, Any]:
    return {"requester": request_submitted_payload()["requester"] | {"postcode": postcode}}


def events(app: Flask, request_id: str, type: str | None = None) -> list[dict[str, Any]]:
    return [e for e in outbox(app, type) if e["request_id"] == request_id]


def referrals(app: Flask, request_id: str) -> list[Referral]:
    with hub_of(app).db.sessions() as session:
        query = select(Referral).where(Referral.request_id == request_id).order_by(Referral.created_at)
        return list(session.scalars(query))


def job_status(app: Flask, request_id: str) -> str:
    with hub_of(app).db.sessions() as session:
        job = session.get(Job, request_id)
        assert job is not None
        return job.status


def bearer(app: Flask, role: str, partner_id: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {hub_of(app).tokens.issue(role, partner_id)}"}


def path_of(url: str) -> str:
    return urlsplit(url).path


def used_today(app: Flask, partner_id: str) -> int:
    with hub_of(app).db.sessions() as session:
        day = session.get(PartnerDay, (partner_id, london_day(datetime.now(UTC))))
        return day.referrals if day else 0


# -- where a request goes ----------------------------------------------------------------------


def test_a_food_parcel_goes_to_the_foodbank_first_with_no_personal_details(app: Flask) -> None:
    volunteer(app)  # a shopper is free, but the Foodbank comes first
    request_id = submit(app)
    [referral] = referrals(app, request_id)
    assert (referral.partner_id, referral.status) == ("foodbank", "sent")
    assert job_status(app, request_id) == "referred"
    [sent] = events(app, request_id)  # no offer to the volunteer, no ranking
    assert sent["type"] == "referral.sent"
    payload = sent["payload"]
    assert payload["partner"] == {
        "id": "foodbank",
        "name": "Kingston Foodbank",
        "channel": "email",
        "email": "referrals@foodbank.test",
        "webhook_url": None,
        "secret_generation": 1,
    }
    assert (payload["need"], payload["area"]) == ("food_parcel", "KT1")
    assert path_of(payload["accept_url"]).endswith("/accept") and "accept" in path_of(payload["accept_url"])
    assert path_of(payload["reject_url"]).endswith("/reject")
    assert path_of(payload["api_url"]) == f"/api/v1/referrals/{referral.id}"
    text = json.dumps(payload)
    assert "Margaret" not in text and "Example Road" not in text and "+44" not in text


def test_outside_the_foodbanks_area_the_next_partner_has_it(app: Flask) -> None:
    request_id = submit(app, **in_area("SW15 1AA"))
    [referral] = referrals(app, request_id)
    assert referral.partner_id == "pantry"
    [sent] = events(app, request_id, "referral.sent")
    assert sent["payload"]["partner"]["channel"] == "webhook"
    assert sent["payload"]["partner"]["webhook_url"] == "https://pantry.test/hook"


def test_shopping_goes_to_volunteers_first_and_to_a_partner_when_none_can(app: Flask) -> None:
    shopper = volunteer(app)
    offered = submit(app, need="shopping")
    assert referrals(app, offered) == []
    [offer] = events(app, offered, "offer.sent")
    assert offer["payload"]["volunteer"]["id"] == shopper
    nobody = submit(app, need="shopping", **in_area("SW15 1AA"))  # beyond the shopper's reach
    assert [r.partner_id for r in referrals(app, nobody)] == ["runners"]
    assert [e["type"] for e in events(app, nobody)] == ["match.ranked", "referral.sent"]


def test_a_need_with_no_partner_and_no_volunteer_is_escalated_with_both_reasons(app: Flask) -> None:
    request_id = submit(app, need="dog_walking")  # no partner takes it here, and no walker
    assert job_status(app, request_id) == "escalated"
    [escalated] = events(app, request_id, "request.escalated")
    assert escalated["payload"]["reason"] == "no eligible volunteer is left to ask"


def test_a_partner_at_capacity_gets_no_more(app: Flask) -> None:
    """Foodbank two a day, Pantry one: the fourth food parcel today goes to the volunteers."""
    shopper = volunteer(app)
    ids = [submit(app) for _ in range(4)]
    assert [[r.partner_id for r in referrals(app, i)] for i in ids] == [
        ["foodbank"], ["foodbank"], ["pantry"], [],
    ]  # fmt: skip
    [offer] = events(app, ids[3], "offer.sent")
    assert offer["payload"]["volunteer"]["id"] == shopper
    assert (used_today(app, "foodbank"), used_today(app, "pantry")) == (2, 1)
    no_one_left = submit(app)
    assert job_status(app, no_one_left) == "offered"  # the shopper can take a few at once


def test_concurrent_referrals_never_pass_a_partners_capacity(app: Flask) -> None:
    """Eight workers at once, each in its own transaction, for a partner with room for three."""
    hub = hub_of(app)
    foodbank = policy(app).routing.partners["foodbank"]
    crowded = type(foodbank)(**vars(foodbank) | {"capacity_per_day": 3})
    today = london_day(datetime.now(UTC))
    start = threading.Barrier(8)
    taken: list[bool] = []

    def take() -> None:
        start.wait()
        with hub.db.transaction() as session:
            taken.append(take_capacity(session, crowded, today))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(taken) == [False] * 5 + [True] * 3
    assert used_today(app, "foodbank") == 3


# -- answers by signed link -------------------------------------------------------------------


def referral_link(app: Flask, request_id: str, action: str) -> str:
    [sent] = events(app, request_id, "referral.sent")
    return path_of(sent["payload"][f"{action}_url"])


def test_the_email_links_accept_and_complete_and_are_then_spent(app: Flask) -> None:
    client = client_as(app)
    request_id = submit(app)
    accept = referral_link(app, request_id, "accept")
    page = client.get(accept)  # a mail scanner opening the link changes nothing
    assert page.status_code == 200 and "Yes, we can take it" in page.text
    assert "Margaret" not in page.text and referrals(app, request_id)[0].status == "sent"

    accepted = client.post(accept)
    assert accepted.status_code == 200
    assert "Margaret Hill" in accepted.text and "12 Example Road" in accepted.text
    assert referrals(app, request_id)[0].status == "accepted"
    [event] = events(app, request_id, "referral.accepted")
    assert event["payload"]["requester"]["address"] == "12 Example Road"
    complete = path_of(event["payload"]["complete_url"])
    assert "/complete" in complete

    again = client.get(accept)
    assert again.status_code == 409 and "already accepted" in again.text
    assert client.get(referral_link(app, request_id, "reject")).status_code == 409

    done_page = client.get(complete)  # the details stay while the partner holds it
    assert done_page.status_code == 200 and "Margaret Hill" in done_page.text
    assert client.post(complete).status_code == 200
    assert referrals(app, request_id)[0].status == "completed"
    assert job_status(app, request_id) == "completed"
    assert [e["type"] for e in events(app, request_id)][-1] == "referral.completed"
    closed = client.get(complete)  # and go once it is done
    assert closed.status_code == 409 and "Margaret" not in closed.text


def test_a_rejection_by_link_needs_a_reason_frees_capacity_and_goes_on(app: Flask) -> None:
    client = client_as(app)
    request_id = submit(app)
    reject = referral_link(app, request_id, "reject")
    assert used_today(app, "foodbank") == 1
    without_reason = client.post(reject, data={"reason": "  "})
    assert without_reason.status_code == 422 and "Tell us why" in without_reason.text
    assert referrals(app, request_id)[0].status == "sent"  # nothing changed

    assert client.post(reject, data={"reason": "No drivers this week"}).status_code == 200
    first, second = referrals(app, request_id)
    assert (first.partner_id, first.status, first.reason) == ("foodbank", "rejected", "No drivers this week")
    assert (second.partner_id, second.status) == ("pantry", "sent")
    assert used_today(app, "foodbank") == 0
    [rejected] = events(app, request_id, "referral.rejected")
    assert rejected["payload"] == {
        "referral_id": first.id,
        "partner_id": "foodbank",
        "reason": "No drivers this week",
    }
    assert client.post(reject, data={"reason": "again"}).status_code == 409


def test_the_accept_link_never_opens_the_details_page(app: Flask) -> None:
    client = client_as(app)
    request_id = submit(app)
    accept = referral_link(app, request_id, "accept")
    assert client.post(accept).status_code == 200
    as_complete = accept.rsplit("/", 1)[0] + "/complete"  # the first email's link, edited
    page = client.get(as_complete)
    assert page.status_code == 404 and "Margaret" not in page.text
    assert client.post(as_complete).status_code == 404
    assert referrals(app, request_id)[0].status == "accepted"


def test_an_urgent_request_waits_no_longer_for_a_partner_than_for_a_volunteer(app: Flask) -> None:
    before = datetime.now(UTC)
    [urgent] = referrals(app, submit(app, urgency="urgent"))
    [normal] = referrals(app, submit(app, urgency="low"))
    urgent_wait = policy(app).lifetime("urgent")  # 30 minutes
    assert before + urgent_wait <= urgent.expires_at <= datetime.now(UTC) + urgent_wait
    assert normal.expires_at >= before + timedelta(hours=24)  # the Foodbank's own 24 hours


def test_an_altered_or_foreign_link_opens_nothing(app: Flask) -> None:
    client = client_as(app)
    request_id = submit(app)
    accept = referral_link(app, request_id, "accept")
    token = accept.split("/")[2]
    assert client.get(f"/referrals/{token[:-2]}xx/accept").status_code == 404
    assert client.get(f"/referrals/{token}/delete").status_code == 404
    offer_token = hub_of(app).signer.sign("offer", referrals(app, request_id)[0].id)
    assert client.post(f"/referrals/{offer_token}/accept").status_code == 404  # wrong purpose
    assert referrals(app, request_id)[0].status == "sent"


def test_an_unanswered_referral_expires_and_the_request_goes_on(app: Flask) -> None:
    request_id = submit(app)
    with hub_of(app).db.transaction() as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        session.execute(update(Referral).where(Referral.request_id == request_id).values(expires_at=past))
    # Past its time, the link already refuses, before the sweep has run.
    late = client_as(app).post(referral_link(app, request_id, "accept"))
    assert late.status_code == 409 and "expired" in late.text
    hub = hub_of(app)
    with hub.db.transaction() as session:
        assert expire_referrals(session, deps_for(app)) == 1
    with hub.db.transaction() as session:
        assert expire_referrals(session, deps_for(app)) == 0
    assert [(r.partner_id, r.status) for r in referrals(app, request_id)] == [
        ("foodbank", "expired"),
        ("pantry", "sent"),
    ]
    assert [e["type"] for e in events(app, request_id)] == [
        "referral.sent",
        "referral.expired",
        "referral.sent",
    ]
    assert used_today(app, "foodbank") == 0


def test_when_every_partner_says_no_the_volunteers_then_the_coordinators_have_it(app: Flask) -> None:
    request_id = submit(app)
    client = client_as(app)
    for _ in range(2):  # Foodbank, then Pantry
        [sent] = events(app, request_id, "referral.sent")[-1:]
        assert client.post(path_of(sent["payload"]["reject_url"]), data={"reason": "full"}).status_code == 200
    assert job_status(app, request_id) == "escalated"
    [escalated] = events(app, request_id, "request.escalated")
    assert (
        escalated["payload"]["reason"]
        == "no partner group could take it; no eligible volunteer is left to ask"
    )


# -- answers through the API, with a partner's token -------------------------------------------


def api_call(client: FlaskClient, method: str, path: str, headers: dict[str, str], **body: Any) -> Any:
    return client.open(path, method=method, headers=headers, json=body or None)


def test_the_referrals_api_needs_a_token_and_a_role_that_may(app: Flask) -> None:
    client = app.test_client()
    request_id = submit(app)
    path = f"/api/v1/referrals/{referrals(app, request_id)[0].id}"
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    genuine = hub_of(app).tokens.issue("partner", "foodbank")
    forged = genuine[: genuine.rindex(".") + 1] + "A" * 27  # another signature
    assert client.get(path, headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert client.get(path, headers=bearer(app, "council")).status_code == 403
    assert client.post(f"{path}/accept", headers=bearer(app, "council")).status_code == 403
    assert referrals(app, request_id)[0].status == "sent"  # nothing changed
    assert client.get(path, headers=bearer(app, "coordinator")).status_code == 200


def test_a_partner_sees_and_answers_only_its_own_referrals(app: Flask) -> None:
    client = client_as(app)
    request_id = submit(app)
    [referral] = referrals(app, request_id)
    path = f"/api/v1/referrals/{referral.id}"
    pantry, foodbank = bearer(app, "partner", "pantry"), bearer(app, "partner", "foodbank")
    assert client.get(path, headers=pantry).status_code == 404  # not "forbidden": not there
    assert client.post(f"{path}/accept", headers=pantry).status_code == 404
    assert client.post(f"{path}/reject", headers=pantry, json={"reason": "x"}).status_code == 404
    assert client.get("/api/v1/referrals", headers=pantry).get_json() == []
    assert referral.status == "sent" and referrals(app, request_id)[0].status == "sent"

    [listed] = client.get("/api/v1/referrals", headers=foodbank).get_json()
    assert listed["id"] == referral.id and listed["area"] == "KT1"
    assert listed["requester"] is None and listed["details"] is None  # not before accepting

    accepted = client.post(f"{path}/accept", headers=foodbank)
    assert accepted.status_code == 200
    assert accepted.get_json()["requester"]["name"] == "Margaret Hill"
    assert client.post(f"{path}/accept", headers=foodbank).status_code == 409
    done = client.post(f"{path}/complete", headers=foodbank)
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    assert done.get_json()["requester"] is None  # the details go once it is done
    assert job_status(app, request_id) == "completed"


def test_a_rejection_through_the_api_needs_a_reason(app: Flask) -> None:
    client = client_as(app)
    request_id = submit(app)
    path = f"/api/v1/referrals/{referrals(app, request_id)[0].id}/reject"
    foodbank = bearer(app, "partner", "foodbank")
    missing = client.post(path, headers=foodbank, json={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["errors"]["json"]
    assert referrals(app, request_id)[0].status == "sent"
    answered = client.post(path, headers=foodbank, json={"reason": "Closed for a week"})
    assert answered.status_code == 200 and answered.get_json()["status"] == "rejected"
    assert [r.partner_id for r in referrals(app, request_id)] == ["foodbank", "pantry"]


# -- the routing file -------------------------------------------------------------------------


def test_the_shipped_routing_matches_the_brief() -> None:
    routing = SHIPPED_ROUTING
    assert routing.stages("food_parcel") == ("partners", "volunteers")
    assert [p.id for p in routing.partners_for("food_parcel", "KT1")] == ["foodbank"]
    assert routing.partners["foodbank"].channel == "email"
    for need in ("shopping", "prescription", "befriending", "dog_walking", "transport"):
        assert routing.stages(need)[0] == "volunteers"
    assert routing.stages("other") == ()
    assert routing.needs["befriending"].dbs and routing.needs_dbs("shopping", vulnerable=True)
    assert {p.name for p in routing.partners.values()} == {
        "Kingston Foodbank", "GoodGym Kingston", "Voices for Hope", "Kingston Voluntary Action",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"channel": "webhook"}, "webhook_url"),
        ({"needs": ["groceries"]}, "needs"),
        ({"capacity_per_day": -1}, "capacity_per_day"),
        ({"areas": ["Kingston"]}, "areas"),
        ({"fax": "0208"}, "fax"),
        ({"channel": "webhook", "webhook_url": "http://partner.example.org/hook"}, "https"),
        ({"channel": "webhook", "webhook_url": "https://partner.example.org/" + "x" * 250}, "webhook_url"),
    ],
)
def test_a_mistake_in_the_routing_file_stops_dispatch_and_says_where(
    tmp_path: Path, change: dict[str, Any], complaint: str
) -> None:
    path = routing_file(tmp_path, {"foodbank": partner() | change})
    with pytest.raises(ConfigError, match=complaint):
        load_routing(path)


def test_a_need_sent_to_partners_that_no_partner_takes_is_refused(tmp_path: Path) -> None:
    path = routing_file(tmp_path, {"runners": RUNNERS})  # food parcels go to partners first...
    with pytest.raises(ConfigError, match="no partner takes it"):
        load_routing(path)
    path.write_text("[needs.shopping]\nfirst = 'volunteers'\nskill = 'shopping'\n")
    with pytest.raises(ConfigError, match="no route for"):
        load_routing(path)
    path.write_text("needs = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_routing(path)


# -- a coordinator cancels or closes the request ---------------------------------------------------


def test_a_cancelled_request_withdraws_its_referral_and_offers_and_gives_the_place_back(app: Flask) -> None:
    from dispatch.jobs.service import end_request

    held = submit(app)  # to the Foodbank
    asha = volunteer(app, postcode="KT1 1EU")
    shopping = submit(app, need="shopping")  # offered to the volunteer now there
    hub = hub_of(app)
    [referral] = referrals(app, held)
    assert referral.status == "sent" and len(events(app, shopping, "offer.sent")) == 1
    for request_id, type in ((held, "request.cancelled"), (shopping, "request.closed")):
        event = new_event(type, {"reason": "No longer needed"}, request_id=request_id)
        with hub.db.transaction() as session:
            end_request(session, deps_for(app), event)
            end_request(session, deps_for(app), event)  # again: nothing twice
    assert referrals(app, held)[0].status == "withdrawn" and job_status(app, held) == "ended"
    [withdrawn] = events(app, held, "referral.withdrawn")
    assert withdrawn["payload"]["partner"]["id"] == "foodbank"
    with hub.db.sessions() as session:
        assert session.get_one(PartnerDay, ("foodbank", referral.day)).referrals == 0  # the place is back
    [offer_withdrawn] = events(app, shopping, "offer.withdrawn")
    assert offer_withdrawn["payload"]["reason"] == "cancelled"
    assert client_as(app).get(f"/api/v1/volunteers/{asha}").get_json()["active_tasks"] == 0  # free again
    late = client_as(app, "partner", "foodbank").post(f"/api/v1/referrals/{referral.id}/accept")
    assert late.status_code == 409  # too late to take it


def test_a_coordinator_reassigns_to_a_chosen_volunteer_or_partner(app: Flask) -> None:
    first, second = volunteer(app, postcode="KT1 1EU"), volunteer(app, postcode="KT1 1EU", name="Ben")
    shopping = submit(app, need="shopping")
    [offer_sent] = events(app, shopping, "offer.sent")
    holder = offer_sent["payload"]["volunteer"]["id"]
    other = second if holder == first else first
    coordinator = client_as(app)
    page = coordinator.get(f"/jobs/{shopping}").get_data(as_text=True)
    assert "Offer to Ben" in page or ("Offer to Asha" in page and "Refer to Kingston Foodbank" in page)
    assert (
        coordinator.post(f"/jobs/{shopping}", data={"volunteer_id": holder}).status_code == 409
    )  # asked already
    moved = coordinator.post(f"/jobs/{shopping}", data={"volunteer_id": other})
    assert moved.status_code == 303 and moved.location.endswith(f"/requests/{shopping}")
    assert [e["payload"]["reason"] for e in events(app, shopping, "offer.withdrawn")] == ["reassigned"]
    assert [e["payload"]["volunteer"]["id"] for e in events(app, shopping, "offer.sent")] == [holder, other]

    to_partner = coordinator.post(f"/jobs/{shopping}", data={"partner_id": "pantry"})
    assert to_partner.status_code == 303
    [referral] = referrals(app, shopping)
    assert (referral.partner_id, referral.status) == ("pantry", "sent")  # the Pantry, though it is not first
    assert len(events(app, shopping, "offer.withdrawn")) == 2
    assert coordinator.post(f"/jobs/{shopping}", data={"partner_id": "nobody"}).status_code == 409
    assert client_as(app, "council").get(f"/jobs/{shopping}").status_code == 403


def test_an_edited_request_updates_dispatchs_copy(app: Flask) -> None:
    from dispatch.jobs.service import update_job

    request_id = submit(app)
    payload = request_submitted_payload(need="food_parcel", details="Family of four") | in_area("KT2 5PQ")
    hub = hub_of(app)
    with hub.db.transaction() as session:
        update_job(session, deps_for(app), new_event("request.updated", payload, request_id=request_id))
        job = session.get(Job, request_id)
        assert job is not None
        assert (job.details, job.postcode, job.district) == ("Family of four", "KT2 5PQ", "KT2")
        assert job.status == "referred"  # whoever has it keeps it


def test_a_partner_answers_its_own_referrals_on_its_page_and_never_sees_another(app: Flask) -> None:
    request_id = submit(app)  # to the Foodbank
    [referral] = referrals(app, request_id)
    foodbank, pantry = client_as(app, "partner", "foodbank"), client_as(app, "partner", "pantry")
    page = foodbank.get("/partner").get_data(as_text=True)
    assert "Referrals for Kingston Foodbank" in page and "Accept" in page and "Margaret" not in page
    assert "No referrals yet" in pantry.get("/partner").get_data(as_text=True)
    assert pantry.post(f"/partner/referrals/{referral.id}/accept").status_code == 404  # not theirs
    assert foodbank.post(f"/partner/referrals/{referral.id}/reject", data={"reason": " "}).status_code == 422
    assert foodbank.post(f"/partner/referrals/{referral.id}/accept").status_code == 303
    held = foodbank.get("/partner").get_data(as_text=True)
    assert "Margaret" in held and "Mark" in held  # the details once accepted
    assert foodbank.post(f"/partner/referrals/{referral.id}/complete").status_code == 303
    assert referrals(app, request_id)[0].status == "completed"
    assert client_as(app, "coordinator").get("/partner").status_code == 403


def test_a_held_request_stands_everyone_down_and_reopening_looks_again(app: Flask) -> None:
    from dispatch.jobs.service import end_request, reopen_job

    first = volunteer(app, postcode="KT1 1EU")
    shopping = submit(app, need="shopping")
    hub = hub_of(app)
    with hub.db.transaction() as session:
        end_request(
            session,
            deps_for(app),
            new_event("request.held", {"reason": "In hospital"}, request_id=shopping),
            held=True,
        )
    assert job_status(app, shopping) == "held"
    assert [e["payload"]["reason"] for e in events(app, shopping, "offer.withdrawn")] == ["on_hold"]
    assert client_as(app).post(f"/jobs/{shopping}", data={"partner_id": "runners"}).status_code == 409
    second = volunteer(app, postcode="KT1 1EU", name="Ben")
    with hub.db.transaction() as session:
        reopen_job(
            session,
            deps_for(app),
            new_event("request.reopened", {"reason": "Home again"}, request_id=shopping),
        )
    offered = [e["payload"]["volunteer"]["id"] for e in events(app, shopping, "offer.sent")]
    assert offered == [first, second]  # asked afresh, past whoever was asked before
    assert job_status(app, shopping) == "offered"


def test_a_request_cancelled_before_it_arrives_is_never_offered(app: Flask) -> None:
    from dispatch.jobs.service import end_request

    volunteer(app, postcode="KT1 1EU")
    request_id = str(uuid.uuid4())
    hub = hub_of(app)
    with hub.db.transaction() as session:  # the cancelling overtook the request on the queues
        end_request(
            session, deps_for(app), new_event("request.cancelled", {"reason": "x"}, request_id=request_id)
        )
    submitted = new_event(
        "request.submitted", request_submitted_payload(need="shopping"), request_id=request_id
    )
    with hub.db.transaction() as session:
        receive_request(session, deps_for(app), submitted)
    assert job_status(app, request_id) == "ended" and events(app, request_id, "offer.sent") == []
