"""The compose deployment: checked here without an engine, and run for real where one exists."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from hub_shared.auth import ApiTokens

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "dispatch", "notify")


def compose_config() -> dict[str, Any]:
    """The compose file as Debian's docker-compose resolves it (anchors, variables, defaults)."""
    if shutil.which("docker-compose") is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing: .ci/run installs it")
        pytest.skip(
            "docker-compose is not installed (apt-get install --no-install-recommends docker-compose)"
        )
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
        env={**os.environ, "HUB_SECRET_KEY": "a-long-random-test-secret"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_the_compose_file_is_valid_and_runs_every_process() -> None:
    services = compose_config()["services"]
    for name in SERVICES:
        assert {f"{name}-migrate", f"{name}-web", f"{name}-worker"} <= set(services)
        assert "healthcheck" in services[f"{name}-web"]
    assert {"redis", "postgres", "beat", "mailpit"} <= set(services)
    redis_command = services["redis"]["command"]
    assert "noeviction" in redis_command and "--appendonly" in redis_command


def test_the_compose_file_needs_a_secret() -> None:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed")
    env = {k: v for k, v in os.environ.items() if k != "HUB_SECRET_KEY"}
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "HUB_SECRET_KEY" in result.stderr


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    text = path.read_text().replace("\\\n", " ")
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_each_dockerfile_copies_and_runs_what_exists(service: str) -> None:
    instructions = dockerfile_instructions(ROOT / "services" / service / "Dockerfile")
    copies = [shlex.split(args) for op, args in instructions if op == "COPY"]
    assert copies
    for *sources, _destination in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"{service}'s Dockerfile copies {source}, which is missing"
    [cmd] = [args for op, args in instructions if op == "CMD"]
    app = re.search(r'"(\w+):create_app\(\)"', cmd)
    assert app and (ROOT / "services" / service / app.group(1) / "__init__.py").exists()
    assert "def create_app" in (ROOT / "services" / service / service / "__init__.py").read_text()


def test_compose_commands_and_files_exist() -> None:
    services = compose_config()["services"]
    for name in SERVICES:
        worker = services[f"{name}-worker"]["command"]
        module = worker[worker.index("-A") + 1]
        assert (ROOT / "services" / name / Path(*module.split("."))).with_suffix(".py").exists()
        build = services[f"{name}-migrate"]["build"]
        assert (Path(build["context"]) / build["dockerfile"]).exists()
    beat = services["beat"]["command"]
    assert (ROOT / "shared" / Path(*beat[beat.index("-A") + 1].split("."))).with_suffix(".py").exists()
    for volume in services["postgres"]["volumes"]:
        source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
        if source.startswith("/") or source.startswith("."):
            assert Path(source).exists(), f"postgres mounts {source}, which is missing"


# -- the reverse proxy: one origin, each path to the service that owns it ------------------------

LOCATION = re.compile(r"location\s+(=|~)?\s*(\S+)\s*\{\s*proxy_pass\s+http://(\w+)(\S*);\s*\}")


def proxy_locations() -> list[tuple[str, str, str, str]]:
    """(kind, pattern, upstream, upstream path) for each location in the proxy's nginx.conf."""
    found = LOCATION.finditer((ROOT / "deploy/proxy/nginx.conf").read_text())
    return [(m.group(1), m.group(2), m.group(3), m.group(4)) for m in found]


def routed_to(path: str) -> tuple[str, str]:
    """Which upstream nginx sends `path` to, and the path it asks for: exact locations first,
    then regular expressions in order, then the longest prefix."""
    locations = proxy_locations()
    for kind, pattern, upstream, target in locations:
        if kind == "=" and pattern == path:
            return upstream, target or path
    for kind, pattern, upstream, target in locations:
        if kind == "~" and re.search(pattern, path):
            return upstream, target or path
    prefixes = [(p, u, t) for k, p, u, t in locations if not k and path.startswith(p)]
    pattern, upstream, target = max(prefixes, key=lambda found: len(found[0]))
    return upstream, target or path


def test_the_proxy_sends_every_route_of_every_service_to_that_service(tmp_path: Path) -> None:
    from tests.unit.conftest import make_app

    checked = 0
    for service in SERVICES:
        app = next(make_app(tmp_path / service, service))
        for rule in app.url_map.iter_rules():
            if rule.endpoint in ("static", "healthz", "readyz"):
                continue  # each service's own, reached inside compose's network
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
            if path == "/api/openapi.json" and service != "intake":
                path = f"/api/{service}/openapi.json"  # all three serve it: by name behind the proxy
            upstream, target = routed_to(path)
            assert upstream == service, f"{path} ({service}) goes to {upstream}"
            assert target == (rule.rule if rule.rule == "/api/openapi.json" else path)
            checked += 1
    assert checked > 30


def test_compose_puts_the_proxy_in_front_with_one_public_address() -> None:
    services = compose_config()["services"]
    proxy = services["proxy"]
    assert any(str(port.get("published")) == "8080" for port in proxy["ports"])
    mounted = [v["source"] if isinstance(v, dict) else v.split(":")[0] for v in proxy["volumes"]]
    assert any(Path(source).name == "nginx.conf" and Path(source).exists() for source in mounted)
    for name in SERVICES:
        environment = services[f"{name}-web"]["environment"]
        assert {environment[f"HUB_{s.upper()}_URL"] for s in SERVICES} == {"http://localhost:8080"}


# -- the real deployment, where a Docker engine runs (pytest-docker) ---------------------------


def docker_engine_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(ROOT / "docker-compose.yml")


@pytest.fixture(scope="session")
def hub_in_docker(request: pytest.FixtureRequest) -> Iterator[str]:
    if not docker_engine_available():
        pytest.skip("no Docker engine here (`docker info` fails): the compose run needs one")
    os.environ.setdefault("HUB_SECRET_KEY", "a-long-random-test-secret")
    docker_ip = request.getfixturevalue("docker_ip")
    services = request.getfixturevalue("docker_services")
    url = f"http://{docker_ip}:8001"

    def healthy() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    services.wait_until_responsive(timeout=600, pause=2, check=healthy)
    yield docker_ip


@pytest.mark.docker
def test_a_request_reaches_a_volunteer_in_the_compose_deployment(hub_in_docker: str) -> None:
    host = hub_in_docker
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {ApiTokens(os.environ['HUB_SECRET_KEY']).issue('coordinator')}"
    volunteer = {
        "name": "Asha",
        "email": "asha.docker@example.org",
        "postcode": "KT1 1EU",
        "skills": ["shopping"],
    }
    assert api.post(f"http://{host}:8002/api/v1/volunteers", json=volunteer, timeout=10).status_code == 201
    body = {
        "requester": {"name": "M H", "phone": "020 8547 5000", "postcode": "KT1 2AB", "address": "12 Road"},
        "need": "shopping",
        "consent": {"data_processing": True},
    }
    created = api.post(f"http://{host}:8001/api/v1/requests", json=body, timeout=10).json()
    for _ in range(120):
        if (
            api.get(f"http://{host}:8001/api/v1/requests/{created['id']}", timeout=10).json()["status"]
            == "offered"
        ):
            break
        time.sleep(1)
    else:
        pytest.fail("the request was never offered")
    inbox = requests.get(
        f"http://{host}:8025/api/v1/search", params={"query": "to:asha.docker@example.org"}, timeout=10
    )
    assert inbox.json()["messages_count"] >= 1
