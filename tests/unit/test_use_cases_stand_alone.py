"""Use cases know no framework: importing one, in a fresh interpreter, loads neither Flask nor
Celery (nor what comes with them). So they run, and are tested, without an app or a worker."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

FRAMEWORKS = {"flask", "celery", "kombu", "werkzeug", "flask_smorest"}

USE_CASES = [
    "intake.requests.service",
    "intake.requests.handlers",
    "intake.requests.queue",
    "intake.council.dashboard",
    "intake.people.service",
    "dispatch.flows",
    "dispatch.volunteers.service",
    "dispatch.offers.service",
    "dispatch.referrals.service",
    "dispatch.jobs.service",
    "dispatch.matching",
    "dispatch.scoring",
    "dispatch.rules",
    "notify.service",
    "notify.audiences",
    "notify.replies",
    "notify.rendering",
    "notify.policies",
    "notify.channels",
]

PROBE = (
    "import importlib, json, sys; importlib.import_module(sys.argv[1]); "
    "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
)


def frameworks_loaded_by(modules: list[str]) -> dict[str, set[str]]:
    """For each module, the frameworks a fresh interpreter has loaded after importing it alone
    (the interpreters run side by side)."""
    probes = {
        module: subprocess.Popen(
            [sys.executable, "-c", PROBE, module], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for module in modules
    }
    loaded = {}
    for module, probe in probes.items():
        out, err = probe.communicate(timeout=60)
        assert probe.returncode == 0, f"importing {module} failed: {err}"
        loaded[module] = set(json.loads(out)) & FRAMEWORKS
    return loaded


def test_importing_a_use_case_loads_no_framework() -> None:
    loaded = frameworks_loaded_by(USE_CASES)
    assert {module: found for module, found in loaded.items() if found} == {}


@pytest.mark.parametrize("module", ["hub_shared.web", "intake.app"])
def test_the_check_sees_a_framework_where_there_is_one(module: str) -> None:
    assert {"flask"} <= frameworks_loaded_by([module])[module]
