"""Requests for help: their statuses and allowed moves (enums), what a request must contain and
how it is shown (schemas), the use cases a person asks for (service), the other services'
events followed into status and timeline (handlers) and the coordinators' work queue (queue)."""
