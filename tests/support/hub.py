"""The running hub for integration and end-to-end tests: every real process, on free ports, with
its own embedded Redis and databases, in a short temporary folder (unix socket paths are short)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from hub_shared.auth import ApiTokens
from hub_shared.runner import HubRunner
from tests.support.databases import service_databases

# Variables a developer's shell or CI may set that must not leak into a test's hub.
HUB_VARIABLES = re.compile(r"^(REDIS_URL|HUB_.*|(INTAKE|DISPATCH|NOTIFY)_DATABASE_URL)$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(
    check: Callable[[], Any], *, timeout: float = 30, interval: float = 0.2, what: str = ""
) -> Any:
    """Poll until check() returns something truthy; fail with `what` if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        time.sleep(interval)


class HubClient:
    """Small helpers that keep HTTP out of test bodies."""

    def __init__(self, runner: HubRunner) -> None:
        self.runner = runner
        # Every API takes a token: the helpers below call as a coordinator's system would.
        self.api = requests.Session()
        # gunicorn closes a connection idle for 2 s; a request sent on it at that moment finds
        # it closed ("Remote end closed connection"). Reads are safe to send again.
        retry_reads = Retry(total=3, connect=3, read=3, backoff_factor=0.1, allowed_methods={"GET"})
        self.api.mount("http://", HTTPAdapter(max_retries=retry_reads))
        self.api.headers["Authorization"] = f"Bearer {self.token('coordinator')}"

    def token(self, role: str, partner: str | None = None) -> str:
        return ApiTokens(self.runner.env["HUB_SECRET_KEY"]).issue(role, partner)

    def person(self, email: str, role: str, password: str, partner: str | None = None) -> None:
        """Add someone who signs in, the way an admin does (`users create`, then their link)."""
        command = [sys.executable, "-m", "flask", "--app", "intake", "users", "create"]
        command += ["--email", email, "--role", role] + (["--partner", partner] if partner else [])
        created = subprocess.run(command, env=self.runner.env, capture_output=True, text=True, check=True)
        link = created.stdout.strip().splitlines()[-1]
        form = {"password": password, "password_again": password}
        assert requests.post(link, data=form, timeout=10).status_code == 200

    def signed_in(self, role: str = "coordinator") -> requests.Session:
        """A browser-like session signed in as a new person with this role."""
        email, password = f"{role}.{uuid.uuid4().hex[:8]}@example.org", "a long test password 1"
        self.person(email, role, password)
        browser = requests.Session()
        answer = browser.post(
            self.url("intake", "/sign-in"), data={"email": email, "password": password}, timeout=10
        )
        assert answer.status_code == 200 and "/sign-in" not in answer.url, answer.text
        return browser

    def url(self, service: str, path: str = "") -> str:
        return self.runner.url(service) + path

    def add_volunteer(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "name": "Asha Patel",
            "email": "asha@example.org",
            "phone": "07700 900101",
            "postcode": "KT1 1EU",
            "skills": ["shopping"],
            "dbs_checked": True,
        } | overrides
        response = self.api.post(self.url("dispatch", "/api/v1/volunteers"), json=body, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    def submit_request(self, **overrides: Any) -> dict[str, Any]:
        response = self.api.post(
            self.url("intake", "/api/v1/requests"), json=request_body(**overrides), timeout=10
        )
        assert response.status_code == 201, response.text
        return response.json()

    def request(self, request_id: str) -> dict[str, Any]:
        response = self.api.get(self.url("intake", f"/api/v1/requests/{request_id}"), timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for_status(self, request_id: str, status: str, timeout: float = 30) -> dict[str, Any]:
        return wait_until(
            lambda: (r := self.request(request_id))["status"] == status and r,
            timeout=timeout,
            what=f"request to reach {status}",
        )

    def messages(self, request_id: str | None = None) -> list[dict[str, Any]]:
        params = {"request_id": request_id} if request_id else {}
        response = self.api.get(self.url("notify", "/api/v1/messages"), params=params, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


def request_body(**overrides: Any) -> dict[str, Any]:
    return {
        "requester": {
            "name": "Margaret Hill",
            "phone": "020 8547 5000",
            "email": None,
            "postcode": "KT1 2AB",
            "address": "12 Example Road, Kingston upon Thames",
        },
        "need": "shopping",
        "urgency": "normal",
        "details": "Weekly shop",
        "consent": {"data_processing": True},
    } | overrides


@contextmanager
def running_hub(backend: str, *, extra_env: Mapping[str, str] | None = None) -> Iterator[HubClient]:
    folder = Path(tempfile.mkdtemp(prefix="hub-"))
    try:
        with service_databases(backend, folder) as urls:
            env = {k: v for k, v in os.environ.items() if not HUB_VARIABLES.match(k)}
            env |= {f"{service.upper()}_DATABASE_URL": url for service, url in urls.items()}
            env |= {"HUB_SECRET_KEY": "test-secret-key-0123456789", "HUB_SWEEP_SECONDS": "1"}
            env |= dict(extra_env or {})
            ports = {"intake": free_port(), "dispatch": free_port(), "notify": free_port()}
            runner = HubRunner(folder / "var", env=env, ports=ports, worker_concurrency=1)
            try:
                runner.start()
                yield HubClient(runner)
            finally:
                runner.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
