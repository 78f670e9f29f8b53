"""Who may use each of dispatch's endpoints (checked by hub_shared.access before any view runs).
An endpoint missing here is refused, and tests/unit/test_access.py fails."""

from hub_shared.access import ANYONE, SIGNED_IN, STAFF, AccessTable, only

# A partner sees and answers only its own referrals (the views scope it; another's is a 404).
REFERRALS = only("admin", "coordinator", "partner")

ACCESS: AccessTable = {
    "api-docs.openapi_json": SIGNED_IN,
    # Volunteers' details are for the hub's staff only.
    "volunteers.Volunteers": STAFF,
    "volunteers.VolunteerById": STAFF,
    "referrals.Referrals": REFERRALS,
    "referrals.ReferralById": REFERRALS,
    "referrals.AcceptReferral": REFERRALS,
    "referrals.RejectReferral": REFERRALS,
    "referrals.CompleteReferral": REFERRALS,
    # A partner group's own page: its own referrals only (the views scope it).
    "pages.partner_queue": only("partner"),
    "pages.partner_answer": only("partner"),
    # Coordinators' pages.
    "pages.volunteer_list": STAFF,
    "pages.volunteer_profile": STAFF,
    "pages.volunteer_status": STAFF,
    "pages.partner_list": STAFF,
    "pages.send_request": STAFF,
    # Volunteers' and partners' pages, opened from signed links in their messages.
    "pages.answer_offer": ANYONE,
    "pages.task": ANYONE,
    "pages.answer_referral": ANYONE,
    "pages.own_availability": ANYONE,
    "pages.stop_volunteering": ANYONE,
    # Anyone may offer to volunteer; the email link proves the address.
    "pages.volunteer_sign_up": ANYONE,
    "pages.volunteer_verify": ANYONE,
    "healthz": ANYONE,
    "static": ANYONE,
}
