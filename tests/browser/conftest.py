"""Browser tests need Debian's chromium (`.ci/run` installs it where missing). Without it they
are skipped on a developer's machine, and fail in CI, where they must run."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("HUB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium) for the browser tests")
