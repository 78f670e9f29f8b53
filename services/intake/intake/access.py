"""Who may use each of intake's endpoints (checked by hub_shared.access before any view runs).
An endpoint missing here is refused, and tests/unit/test_access.py fails."""

from hub_shared.access import ANYONE, READERS, SIGNED_IN, STAFF, AccessTable

ACCESS: AccessTable = {
    # The API: the council may read requests (without anyone's personal details), not change them.
    "api-docs.openapi_json": SIGNED_IN,
    "requests.Requests": {"GET": READERS, "POST": STAFF},
    "requests.SearchRequests": STAFF,  # by name or phone: personal
    "requests.RequestById": READERS,  # the council's answer has no personal details
    # The coordinator's console.
    "pages.queue_page": STAFF,
    "pages.new_request": STAFF,
    "pages.create_request": STAFF,
    "pages.show_request": STAFF,
    "pages.request_action": STAFF,
    "pages.edit_request_page": STAFF,
    # The council's read-only view (no personal data in any of it).
    "pages.dashboard_page": READERS,
    "pages.dashboard_csv": READERS,
    "pages.status_by_reference": READERS,
    # Signing in, and the links people get by message (each protected by its own signature).
    "pages.sign_in_page": ANYONE,
    "pages.sign_out": SIGNED_IN,
    "pages.account": SIGNED_IN,
    "pages.set_password_page": ANYONE,
    "pages.requester_check": ANYONE,
    "healthz": ANYONE,
    "static": ANYONE,
}
