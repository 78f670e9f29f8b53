"""People who sign in and API tokens (use cases in service.py), and the pages for signing in,
setting a password and answering the links people get by message (views.py)."""
