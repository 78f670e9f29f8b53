"""Reassigning a request, from its page in intake: offer it to a volunteer the hard rules allow,
or refer it to a partner group; whoever had it or was asked is stood down and told."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request
from sqlalchemy import select

from dispatch.app import dispatch
from dispatch.deps import now_utc
from dispatch.jobs.enums import JobStatus
from dispatch.jobs.service import send_to
from dispatch.matching import rank_candidates
from dispatch.models import Job, Offer, Referral, Volunteer
from dispatch.offers.enums import ACTIVE as ACTIVE_OFFERS
from dispatch.pages import closed
from dispatch.referrals.enums import ACTIVE as ACTIVE_REFERRALS
from hub_shared.app import context

pages = Blueprint("job_pages", __name__)


@pages.route("/jobs/<request_id>", methods=["GET", "POST"])
def send_request(request_id: str) -> Any:
    intake_url = context().settings.intake_url
    if request.method == "POST":
        chosen = {
            "volunteer_id": request.form.get("volunteer_id"),
            "partner_id": request.form.get("partner_id"),
        }
        dispatch().run(send_to, request_id, **chosen)
        return redirect(f"{intake_url}/requests/{request_id}", code=303)
    routing = dispatch().deps.policy.routing
    with dispatch().uow.db.sessions() as session:
        job = session.get(Job, request_id)
        if job is None or job.status == JobStatus.ended:
            return closed("dispatch has no open request with that id.", 404)
        candidates = rank_candidates(session, job, now_utc(), routing=routing)[:10]
        holding = list(
            session.scalars(
                select(Offer).where(Offer.request_id == request_id, Offer.status.in_(ACTIVE_OFFERS))
            )
        )
        referred = list(
            session.scalars(
                select(Referral).where(
                    Referral.request_id == request_id, Referral.status.in_(ACTIVE_REFERRALS)
                )
            )
        )
        held_by = [o.volunteer_id for o in holding]
        names = {v.id: v.name for v in session.scalars(select(Volunteer).where(Volunteer.id.in_(held_by)))}
        page = render_template(
            "job.html",
            job=job,
            candidates=candidates,
            holding=holding,
            names=names,
            referred=referred,
            partners=routing.partners,
            intake_url=intake_url,
        )
    return page, 200
