"""The referrals API's schemas: a partner's answer, and a referral as its partner sees it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from dispatch.referrals.enums import ReferralStatus
from hub_shared.schemas import StrictSchema


class RejectionIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class RequesterOut(Schema):
    name = fields.String()
    phone = fields.String(allow_none=True)
    postcode = fields.String()
    address = fields.String()


class ReferralOut(Schema):
    """A referral as its partner (or a coordinator) sees it. The requester's details only while
    the partner holds it (accepted); before that the district is enough to decide."""

    id = fields.String()
    reference = fields.Function(lambda r: r.job.reference)
    partner_id = fields.String()
    status = fields.String()
    need = fields.Function(lambda r: r.job.need)
    urgency = fields.Function(lambda r: r.job.urgency)
    area = fields.Function(lambda r: r.job.district)
    reason = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    answered_at = fields.AwareDateTime(allow_none=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    details = fields.Function(lambda r: r.job.details if r.status == ReferralStatus.accepted else None)
    requester = fields.Function(
        lambda r: RequesterOut().dump(r.job.requester()) if r.status == ReferralStatus.accepted else None
    )
