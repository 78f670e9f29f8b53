"""Who may use each of notify's endpoints (checked by hub_shared.access before any view runs).
An endpoint missing here is refused, and tests/unit/test_access.py fails."""

from hub_shared.access import ANYONE, SIGNED_IN, STAFF, AccessTable

ACCESS: AccessTable = {
    "api-docs.openapi_json": SIGNED_IN,
    # Messages name people: for the hub's staff only.
    "messages.Messages": STAFF,
    "messages.MessageById": STAFF,
    "messages.MessagesToPerson": STAFF,
    "messages.RetryMessage": STAFF,
    "replies.Replies": STAFF,
    "pages.outbox": STAFF,
    # The SMS provider's callbacks carry its signature (checked by the views).
    "provider.inbound": ANYONE,
    "provider.status": ANYONE,
    "healthz": ANYONE,
    "readyz": ANYONE,
    "static": ANYONE,
}
