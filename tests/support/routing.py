"""Routing files for tests: the shipped needs with the partner groups a test wants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dispatch.routing import SHIPPED_ROUTING


def routing_file(folder: Path, partners: dict[str, dict[str, Any]], **needs_first: str) -> Path:
    """Write a routing file into `folder`: the shipped needs (with `need=stage` overriding where
    one goes first) and `partners` as given. JSON's strings, numbers and lists are TOML too."""
    lines = []
    for need, rule in SHIPPED_ROUTING.needs.items():
        lines += [f"[needs.{need}]", f"first = {json.dumps(needs_first.get(need, rule.first))}"]
        if rule.skill:
            lines.append(f"skill = {json.dumps(rule.skill)}")
        lines.append(f"dbs = {json.dumps(rule.dbs)}")
    for partner_id, fields in partners.items():
        lines.append(f"[partners.{partner_id}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
    path = folder / "routing.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def partner(**fields: Any) -> dict[str, Any]:
    """A partner group taking food parcels anywhere, by email, unless `fields` say otherwise."""
    return {
        "name": "Test Foodbank",
        "needs": ["food_parcel"],
        "capacity_per_day": 10,
        "answer_hours": 24,
        "channel": "email",
        "email": "referrals@foodbank.test",
    } | fields
