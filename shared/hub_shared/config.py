"""Settings every service reads from its environment (the names are a contract)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICES = ("intake", "dispatch", "notify")
DEV_PORTS = {"intake": 8001, "dispatch": 8002, "notify": 8003}


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def var_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Where `make run` keeps its databases, embedded Redis and secret (git-ignored)."""
    return Path(env.get("HUB_VAR_DIR") or Path.cwd() / "var").resolve()


def embedded_redis_url(var: Path) -> str:
    # A fixed socket path, so `hub` and every process find the embedded Redis without asking.
    return f"redis+socket://{var / 'redis' / 'redis.sock'}"


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    redis_url: str  # or sentinel://host:port;sentinel://host:port;... (hub_shared.redis_client)
    redis_sentinel_master: str  # the primary's name under Sentinel
    secret_key: str
    intake_url: str
    dispatch_url: str
    notify_url: str
    smtp_url: str | None
    mail_from: str
    # A Twilio-compatible SMS API; None: texts wait in the dev outbox like mail.
    sms: SmsSettings | None
    # No SMS between these London times (minutes after midnight) unless urgent.
    quiet_hours: tuple[int, int] | None
    sms_per_second: float  # segments a second for the whole hub (one number: about one)
    retry_seconds: float  # a failed send's first retry; each next one waits twice as long
    send_lease_seconds: float  # a send not finished by then is taken to have died with its worker
    # Who hears of escalations as they happen, replies the hub cannot act on, and the digest.
    coordinators_email: tuple[str, ...]
    # Seconds before Redis hands an unacknowledged task to another worker: with kombu's restore
    # pass every 10 s, a killed worker's task is back on the queue within this + 10 s. Tasks
    # here are short and idempotent (a slow send that is handed on meanwhile is skipped by its
    # lease); anything slow (expiry, retries) is driven by the sweep, never by long countdowns.
    visibility_timeout: int
    # How often each service's sweep runs (relay what is left in the outbox, expire, reconcile).
    sweep_seconds: float
    # A request with no progress for this long has its events published again (for an event
    # lost outright, as a Redis without its append-only file loses them): longer than a killed
    # worker's task takes to come back, so it does not double the queue in normal running.
    stall_seconds: int
    # Each worker sends itself a canary this often, and exits if it is not taken from its queue
    # within the limit while Redis answers (hub_shared.canary): a wedged worker is restarted.
    canary_seconds: float
    canary_limit: float

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] = os.environ) -> Settings:
        var = var_dir(env)
        secret = env.get("HUB_SECRET_KEY", "")
        if len(secret) < 16:
            raise ConfigError(
                "HUB_SECRET_KEY must be set to a random string of at least 16 characters "
                "(`make run` makes one in var/secret_key)."
            )
        return cls(
            service=service,
            database_url=env.get(f"{service.upper()}_DATABASE_URL") or f"sqlite:///{var / (service + '.db')}",
            redis_url=env.get("REDIS_URL") or embedded_redis_url(var),
            redis_sentinel_master=env.get("HUB_REDIS_SENTINEL_MASTER") or "mymaster",
            secret_key=secret,
            intake_url=base_url(env, "intake"),
            dispatch_url=base_url(env, "dispatch"),
            notify_url=base_url(env, "notify"),
            smtp_url=env.get("HUB_SMTP_URL") or None,
            mail_from=env.get("HUB_MAIL_FROM") or "Community Help Hub <hub@localhost>",
            sms=SmsSettings.from_env(env),
            quiet_hours=quiet_hours(env.get("HUB_QUIET_HOURS", "21:00-08:00")),
            sms_per_second=float(env.get("HUB_SMS_PER_SECOND", "1")),
            retry_seconds=float(env.get("HUB_RETRY_SECONDS", "30")),
            send_lease_seconds=float(env.get("HUB_SEND_LEASE_SECONDS", "120")),
            coordinators_email=tuple(
                filter(None, map(str.strip, env.get("HUB_COORDINATORS_EMAIL", "").split(",")))
            ),
            visibility_timeout=int(env.get("HUB_VISIBILITY_TIMEOUT", "30")),
            sweep_seconds=float(env.get("HUB_SWEEP_SECONDS", "5")),
            stall_seconds=int(env.get("HUB_STALL_SECONDS", "90")),
            canary_seconds=float(env.get("HUB_CANARY_SECONDS", "15")),
            canary_limit=float(env.get("HUB_CANARY_LIMIT_SECONDS", "45")),
        )


@dataclass(frozen=True)
class SmsSettings:
    url: str
    account_sid: str
    auth_token: str
    sender: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmsSettings | None:
        """HUB_SMS_URL and its account; none of them set: no SMS provider."""
        names = ("HUB_SMS_URL", "HUB_SMS_ACCOUNT_SID", "HUB_SMS_AUTH_TOKEN", "HUB_SMS_FROM")
        values = [env.get(name, "").strip() for name in names]
        if not any(values):
            return None
        missing = [name for name, value in zip(names, values, strict=True) if not value]
        if missing:
            raise ConfigError(
                f"An SMS provider needs all of {', '.join(names)}; missing: {', '.join(missing)}."
            )
        return cls(url=values[0].rstrip("/"), account_sid=values[1], auth_token=values[2], sender=values[3])


def quiet_hours(value: str) -> tuple[int, int] | None:
    """ "21:00-08:00" as minutes after midnight; "" or "off": none."""
    if value.strip().lower() in ("", "off"):
        return None
    try:
        start, end = (part.strip() for part in value.split("-"))
        return clock_minutes(start), clock_minutes(end)
    except ValueError as exc:
        raise ConfigError(f"HUB_QUIET_HOURS must look like 21:00-08:00 (or off), not {value!r}.") from exc


def clock_minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
        raise ValueError(clock)
    return int(hours) * 60 + int(minutes)


def base_url(env: Mapping[str, str], service: str) -> str:
    """The public base URL used in links, e.g. HUB_DISPATCH_URL."""
    default = f"http://127.0.0.1:{DEV_PORTS[service]}"
    return (env.get(f"HUB_{service.upper()}_URL") or default).rstrip("/")
