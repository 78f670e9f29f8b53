"""Running the `hub` command as a person would, against the state it keeps in a var folder (the
hub that `make run` would run there), without this shell's hub settings leaking in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_hub(var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DISPATCH_", "REDIS_"))}
    env["HUB_VAR_DIR"] = str(var)
    return subprocess.run(
        [sys.executable, "-m", "hub_shared.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )
