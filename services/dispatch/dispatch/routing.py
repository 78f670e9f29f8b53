"""The routing file: where each need goes first, which volunteer skill and checks it requires,
and the partner groups that take referrals. Read once at start-up and checked, so a mistake in
it stops dispatch with a message instead of misrouting a request.

The shipped file (data/routing.toml) is the example hub's; HUB_ROUTING_FILE names another.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from hub_shared.config import ConfigError
from hub_shared.events import NEEDS, PartnerRef

SHIPPED_FILE = Path(__file__).parent / "data" / "routing.toml"


class Stage(StrEnum):
    """Where a need goes first: volunteers, a partner group, or a coordinator's triage."""

    volunteers = "volunteers"
    partners = "partners"
    coordinators = "coordinators"


STAGES = tuple(Stage)
SKILLS = ("shopping", "prescription_collection", "befriending", "dog_walking", "driving")
CHANNELS = ("email", "webhook")
LOOPBACK = ("127.0.0.1", "localhost", "::1")  # webhooks here may be plain http (tests, a dev box)


@dataclass(frozen=True)
class NeedRule:
    need: str
    first: str
    skill: str | None  # None: no volunteer is ever asked
    dbs: bool


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    needs: frozenset[str]
    areas: frozenset[str]  # empty: everywhere
    capacity_per_day: int
    answer_within: timedelta
    channel: str
    email: str | None
    webhook_url: str | None
    secret_generation: int = 1  # raised to rotate the webhook secret (hub_shared.webhooks)

    def takes(self, need: str, district: str) -> bool:
        return need in self.needs and (not self.areas or district in self.areas)

    def ref(self) -> PartnerRef:
        """The partner as events name it (no secrets: notify derives the webhook's)."""
        return PartnerRef(
            id=self.id,
            name=self.name,
            channel=self.channel,
            email=self.email,
            webhook_url=self.webhook_url,
            secret_generation=self.secret_generation,
        )


@dataclass(frozen=True)
class Routing:
    needs: Mapping[str, NeedRule]
    partners: Mapping[str, Partner]
    vulnerable_needs_dbs: bool

    def rule(self, need: str) -> NeedRule:
        return self.needs[need]

    def stages(self, need: str) -> tuple[str, ...]:
        """Where a request for `need` goes, in order, before the coordinators: its first stop,
        then the other of volunteers and partners where it has any."""
        rule = self.needs[need]
        if rule.first == Stage.coordinators:
            return ()
        has: dict[str, bool] = {
            Stage.volunteers: rule.skill is not None,
            Stage.partners: any(need in p.needs for p in self.partners.values()),
        }
        second = Stage.partners if rule.first == Stage.volunteers else Stage.volunteers
        return tuple(stage for stage in (rule.first, second) if has[stage])

    def needs_dbs(self, need: str, vulnerable: bool) -> bool:
        return self.needs[need].dbs or (vulnerable and self.vulnerable_needs_dbs)

    def partners_for(self, need: str, district: str) -> list[Partner]:
        """Partners that take `need` in `district`, in the file's order (its preference)."""
        return [p for p in self.partners.values() if p.takes(need, district)]


class NeedSchema(Schema):
    class Meta:
        unknown = RAISE

    first = fields.String(required=True, validate=validate.OneOf(STAGES))
    skill = fields.String(load_default=None, validate=validate.OneOf(SKILLS))
    dbs = fields.Boolean(load_default=False)

    @validates_schema
    def _volunteers_need_a_skill(self, data: dict[str, Any], **_: Any) -> None:
        if data["first"] == "volunteers" and data["skill"] is None:
            raise ValidationError("a need that goes to volunteers first must name their skill", "skill")


class PartnerSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    needs = fields.List(fields.String(validate=validate.OneOf(NEEDS)), required=True)
    areas = fields.List(
        fields.String(validate=validate.Regexp(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")), load_default=[]
    )
    capacity_per_day = fields.Integer(required=True, validate=validate.Range(min=0))
    answer_hours = fields.Float(
        required=True, validate=validate.Range(min=0, max=24 * 14, min_inclusive=False)
    )
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    webhook_secret_generation = fields.Integer(load_default=1, validate=validate.Range(min=1))
    email = fields.Email(load_default=None)
    webhook_url = fields.Url(
        load_default=None, schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=254)
    )

    @validates_schema
    def _webhooks_are_encrypted(self, data: dict[str, Any], **_: Any) -> None:
        # Accepted referrals carry people's names and addresses: https, but for this machine.
        url = data.get("webhook_url")
        if url and urlsplit(url).scheme != "https" and urlsplit(url).hostname not in LOOPBACK:
            raise ValidationError("a webhook must use https (http only to this machine)", "webhook_url")

    @validates_schema
    def _channel_has_an_address(self, data: dict[str, Any], **_: Any) -> None:
        field = "email" if data["channel"] == "email" else "webhook_url"
        if not data.get(field):
            raise ValidationError(f"a partner taking referrals by {data['channel']} needs {field}", field)


class RoutingSchema(Schema):
    class Meta:
        unknown = RAISE

    vulnerable_needs_dbs = fields.Boolean(load_default=True)
    needs = fields.Dict(
        keys=fields.String(validate=validate.OneOf(NEEDS)), values=fields.Nested(NeedSchema), required=True
    )
    partners = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,39}$")),
        values=fields.Nested(PartnerSchema),
        load_default={},
    )

    @validates_schema
    def _every_need_routed(self, data: dict[str, Any], **_: Any) -> None:
        missing = sorted(set(NEEDS) - set(data.get("needs", {})))
        if missing:
            raise ValidationError(f"no route for {', '.join(missing)}", "needs")


def load_routing(path: Path | str = SHIPPED_FILE) -> Routing:
    """Read and check a routing file; raise ConfigError saying what is wrong and where."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        data = RoutingSchema().load(raw)
    except OSError as exc:
        raise ConfigError(f"cannot read the routing file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the routing file {path} is not valid TOML: {exc}") from exc
    except ValidationError as exc:
        raise ConfigError(f"the routing file {path} has mistakes: {exc.messages}") from exc
    needs = {name: NeedRule(need=name, **rule) for name, rule in data["needs"].items()}
    partners = {
        pid: Partner(
            id=pid,
            name=p["name"],
            needs=frozenset(p["needs"]),
            areas=frozenset(p["areas"]),
            capacity_per_day=p["capacity_per_day"],
            answer_within=timedelta(hours=p["answer_hours"]),
            channel=p["channel"],
            email=p["email"],
            webhook_url=p["webhook_url"],
            secret_generation=p["webhook_secret_generation"],
        )
        for pid, p in data["partners"].items()
    }
    for need, rule in needs.items():
        if rule.first == "partners" and not any(need in p.needs for p in partners.values()):
            raise ConfigError(
                f"the routing file {path} sends {need} to partners first, but no partner takes it"
            )
    return Routing(needs=needs, partners=partners, vulnerable_needs_dbs=data["vulnerable_needs_dbs"])


SHIPPED_ROUTING = load_routing()


def routing_from_env(env: Mapping[str, str]) -> Routing:
    path = env.get("HUB_ROUTING_FILE")
    return load_routing(path) if path else SHIPPED_ROUTING
