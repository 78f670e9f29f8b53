"""The council's read-only view: the dashboard (and its CSV), one request's status by reference,
and the ward lookup the dashboard counts by. Nothing about any person in any of it."""
