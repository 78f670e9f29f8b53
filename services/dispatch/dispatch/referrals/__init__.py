"""Referrals to partner groups, which take a request or say no (partners are equals)."""
