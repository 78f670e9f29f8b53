"""The coordinator's console: the call form, the work queue, a request's page and its actions."""
