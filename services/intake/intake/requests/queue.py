"""The coordinators' work queue: which requests need a person now, filters, search and counts.
Shared by the queue page and `GET /api/v1/requests`. No Flask here.

"Needs a person now", most pressing first: escalated; a safeguarding concern still open; overdue
(still open after the time its urgency allows); unmatched (nobody has it yet)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from intake.models import HelpRequest
from intake.requests.enums import FINISHED, UNMATCHED, AttentionReason, RequestStatus

LONDON = ZoneInfo("Europe/London")

# Help should have reached someone within this time of their call, by urgency.
DUE_WITHIN = {"urgent": timedelta(hours=24), "normal": timedelta(days=3), "low": timedelta(days=7)}

STATUSES = tuple(RequestStatus)
REASONS = tuple(AttentionReason)
MAX_PAGE = 10_000  # 500,000 requests deep: enough, and a database offset never overflows


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None
    need: str | None = None
    urgency: str | None = None
    district: str | None = None
    created_from: date | None = None  # London days, both ends included
    created_to: date | None = None
    needs_attention: bool = False
    search: str | None = None  # a reference, a phone number or part of a name


def is_open() -> ColumnElement[bool]:
    return HelpRequest.status.not_in(FINISHED)


def attention_reasons(now: datetime) -> dict[AttentionReason, ColumnElement[bool]]:
    return {
        AttentionReason.escalated: HelpRequest.status == RequestStatus.escalated,
        AttentionReason.safeguarding: and_(HelpRequest.safeguarding.is_(True), is_open()),
        AttentionReason.overdue: and_(HelpRequest.due_at < now, is_open()),
        AttentionReason.unmatched: HelpRequest.status.in_(UNMATCHED),
    }


def why_now(request: HelpRequest, now: datetime) -> list[str]:
    """The reasons a request is in "needs a person now", for the queue's tags."""
    open_ = request.status not in FINISHED
    reasons = {
        AttentionReason.escalated: request.status == RequestStatus.escalated,
        AttentionReason.safeguarding: request.safeguarding and open_,
        AttentionReason.overdue: open_ and request.due_at < now,
        AttentionReason.unmatched: request.status in UNMATCHED,
    }
    return [reason for reason in REASONS if reasons[reason]]


def london_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


def search_condition(text: str) -> ColumnElement[bool]:
    text = text.strip()
    by_reference = HelpRequest.reference == text.upper().replace(" ", "")
    conditions = [
        by_reference,
        func.lower(HelpRequest.requester_name).contains(text.lower(), autoescape=True),
    ]
    try:
        number = phonenumbers.parse(text, "GB")
        if phonenumbers.is_possible_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            conditions.append(HelpRequest.requester_phone == e164)
    except phonenumbers.NumberParseException:
        pass
    return or_(*conditions)


def filtered(query: Select[Any], filters: QueueFilter, now: datetime) -> Select[Any]:
    if filters.status:
        query = query.where(HelpRequest.status == filters.status)
    if filters.need:
        query = query.where(HelpRequest.need == filters.need)
    if filters.urgency:
        query = query.where(HelpRequest.urgency == filters.urgency)
    if filters.district:
        query = query.where(HelpRequest.district == filters.district.strip().upper())
    if filters.created_from:
        query = query.where(HelpRequest.created_at >= london_midnight(filters.created_from))
    if filters.created_to:
        query = query.where(HelpRequest.created_at < london_midnight(filters.created_to + timedelta(days=1)))
    if filters.needs_attention:
        query = query.where(or_(*attention_reasons(now).values()))
    if filters.search:
        query = query.where(search_condition(filters.search))
    return query


def ordered(query: Select[Any], filters: QueueFilter, now: datetime) -> Select[Any]:
    if not filters.needs_attention:
        return query.order_by(HelpRequest.created_at.desc(), HelpRequest.id)
    reasons = attention_reasons(now)
    rank = case(*((condition, i) for i, condition in enumerate(reasons.values())), else_=len(reasons))
    return query.order_by(rank, HelpRequest.due_at, HelpRequest.id)


def find(
    session: Session, filters: QueueFilter, *, page: int = 1, per_page: int = 50, now: datetime | None = None
) -> tuple[list[HelpRequest], int]:
    """One page of the requests that match, and how many match in all."""
    now = now or datetime.now(UTC)
    matching = filtered(select(HelpRequest), filters, now)
    total = session.scalar(filtered(select(func.count(HelpRequest.id)), filters, now)) or 0
    rows = session.scalars(ordered(matching, filters, now).limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def counts_by_status(session: Session) -> dict[str, int]:
    found = dict(session.execute(select(HelpRequest.status, func.count()).group_by(HelpRequest.status)).all())
    return {status: found.get(status, 0) for status in STATUSES}


def attention_counts(session: Session, now: datetime | None = None) -> dict[str, int]:
    """How many requests need a person now, for each reason (one request may have several)."""
    now = now or datetime.now(UTC)
    columns = [func.count(case((condition, 1))) for condition in attention_reasons(now).values()]
    row = session.execute(select(*columns).where(is_open())).one()
    return dict(zip(REASONS, row, strict=True))
