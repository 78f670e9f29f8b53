"""Volunteers: the registry, signing up, approval, and each volunteer's own availability."""
