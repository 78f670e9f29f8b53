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
    "console.queue_page": STAFF,
    "console.new_request": STAFF,
    "console.create_request": STAFF,
    "console.show_request": STAFF,
    "console.request_action": STAFF,
    "console.edit_request_page": STAFF,
    # The council's read-only view (no personal data in any of it).
    "council.dashboard_page": READERS,
    "council.dashboard_csv": READERS,
    "council.status_by_reference": READERS,
    # Signing in, and the links people get by message (each protected by its own signature).
    "people.sign_in_page": ANYONE,
    "people.sign_out": SIGNED_IN,
    "people.account": SIGNED_IN,
    "people.set_password_page": ANYONE,
    "people.requester_check": ANYONE,
    "healthz": ANYONE,
    "readyz": ANYONE,
    "static": ANYONE,
}
