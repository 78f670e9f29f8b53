"""API tokens belong to intake: `tokens create` records each (never the token itself) and prints
it last; `tokens revoke` publishes token.revoked, and every service that has the event refuses
the token from then on."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from hub_shared.app import consume_with_retries
from intake.models import ApiToken
from tests.unit.conftest import hub_of, make_app, outbox


class FakeTask:  # consume_with_retries only reads the retry count
    class request:
        retries = 0


def cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["tokens", *args])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_a_token_is_recorded_without_itself_and_revoked_everywhere(intake_app: Flask, tmp_path: Path) -> None:
    token = cli(intake_app, "create", "--role", "coordinator", "--name", "Old laptop")
    with hub_of(intake_app).db.sessions() as session:
        [recorded] = session.query(ApiToken).all()
    assert (recorded.name, recorded.role, recorded.revoked_at) == ("Old laptop", "coordinator", None)
    caller = hub_of(intake_app).tokens.verify(token)
    assert token not in repr(vars(recorded)) and caller is not None and caller.id == recorded.id
    assert recorded.id in cli(intake_app, "list") and token not in cli(intake_app, "list")

    dispatch_app = next(make_app(tmp_path / "dispatch", "dispatch"))
    auth = {"Authorization": f"Bearer {token}"}
    assert dispatch_app.test_client().get("/api/v1/referrals", headers=auth).status_code == 200

    assert cli(intake_app, "revoke", recorded.id) == f"Revoked {recorded.id}."
    cli(intake_app, "revoke", recorded.id)  # twice: one event
    [revoked] = outbox(intake_app, "token.revoked")
    assert revoked["payload"] == {"token_id": recorded.id}
    assert intake_app.test_client().get("/api/v1/requests", headers=auth).status_code == 401  # at once
    assert dispatch_app.test_client().get("/api/v1/referrals", headers=auth).status_code == 200  # until
    with dispatch_app.app_context():
        assert consume_with_retries(FakeTask(), revoked, {}) == "processed"
    assert dispatch_app.test_client().get("/api/v1/referrals", headers=auth).status_code == 401


def test_a_token_issued_before_intake_recorded_them_is_revoked_by_the_token_itself(intake_app: Flask) -> None:
    unrecorded = hub_of(intake_app).tokens.issue("coordinator")
    auth = {"Authorization": f"Bearer {unrecorded}"}
    assert intake_app.test_client().get("/api/v1/requests", headers=auth).status_code == 200
    caller = hub_of(intake_app).tokens.verify(unrecorded)
    assert caller is not None
    token_id = caller.id
    assert cli(intake_app, "revoke", unrecorded) == f"Revoked {token_id}."
    assert intake_app.test_client().get("/api/v1/requests", headers=auth).status_code == 401
    assert outbox(intake_app, "token.revoked")[0]["payload"] == {"token_id": token_id}


def test_revoking_an_unknown_token_says_so(intake_app: Flask) -> None:
    result = intake_app.test_cli_runner().invoke(args=["tokens", "revoke", "no-such-id"])
    assert result.exit_code != 0 and "There is no token with that id" in result.output
    bad = intake_app.test_cli_runner().invoke(args=["tokens", "create", "--role", "partner", "--name", "x"])
    assert bad.exit_code != 0 and "partner" in bad.output
