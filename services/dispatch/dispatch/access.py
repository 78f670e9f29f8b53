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
    "referral_pages.partner_queue": only("partner"),
    "referral_pages.partner_answer": only("partner"),
    # Coordinators' pages.
    "volunteer_pages.volunteer_list": STAFF,
    "volunteer_pages.volunteer_profile": STAFF,
    "volunteer_pages.volunteer_status": STAFF,
    "referral_pages.partner_list": STAFF,
    "job_pages.send_request": STAFF,
    # Volunteers' and partners' pages, opened from signed links in their messages.
    "offer_pages.answer_offer": ANYONE,
    "offer_pages.task": ANYONE,
    "referral_pages.answer_by_link": ANYONE,
    "volunteers_own.own_availability": ANYONE,
    "volunteers_own.stop_volunteering": ANYONE,
    # Anyone may offer to volunteer; the email link proves the address.
    "volunteers_own.volunteer_sign_up": ANYONE,
    "volunteers_own.volunteer_verify": ANYONE,
    "healthz": ANYONE,
    "readyz": ANYONE,
    "static": ANYONE,
}
