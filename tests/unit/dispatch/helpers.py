"""Helpers for dispatch's unit tests: register volunteers through the API, sign links, and the
dependencies dispatch's use cases are handed."""

from __future__ import annotations

from dataclasses import replace
from itertools import count
from typing import Any

from flask import Flask

from dispatch.bootstrap import Dispatch
from dispatch.deps import Deps
from dispatch.policy import Policy
from dispatch.urls import Links
from tests.unit.conftest import client_as, hub_of

_emails = count(1)


def links_for(app: Flask) -> Links:
    return Links(signer=hub_of(app).signer, base_url="http://dispatch.test")


def dispatch_of(app: Flask) -> Dispatch:
    return app.extensions["dispatch"]


def deps_for(app: Flask, policy: Policy | None = None) -> Deps:
    """The app's dependencies, with the tests' links and (if given) another policy."""
    deps = replace(dispatch_of(app).deps, links=links_for(app))
    return deps if policy is None else replace(deps, policy=policy)


def volunteer(app: Flask, **overrides: Any) -> str:
    """Register a volunteer through the API; return their id."""
    body = {
        "name": "Asha Patel",
        "email": f"volunteer{next(_emails)}@example.org",
        "phone": "07700 900101",
        "postcode": "KT1 1EU",
        "skills": ["shopping"],
        "dbs_checked": False,
    } | overrides
    response = client_as(app).post("/api/v1/volunteers", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]
