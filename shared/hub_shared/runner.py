"""Runs the whole hub on one machine: embedded Redis, migrations, every service's web and worker
processes and beat. `make run` uses it through `hub run`; the end-to-end tests use it too.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

from hub_shared.config import DEV_PORTS, SERVICES, embedded_redis_url
from hub_shared.db import migrate
from hub_shared.redis_server import EmbeddedRedis

PR_SET_PDEATHSIG = 1


def _child_setup() -> None:
    # Own session: a Ctrl-C reaches only the runner, which stops the children in order.
    # Parent-death signal: if the runner is killed outright, its children go with it.
    os.setsid()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def secret_key(var: Path) -> str:
    """The dev secret: made once and kept in var/, so links in sent mail keep working."""
    path = var / "secret_key"
    if not path.exists():
        var.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass
class Process:
    name: str
    argv: list[str]
    popen: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)


class HubRunner:
    def __init__(
        self,
        var: Path,
        *,
        env: Mapping[str, str] | None = None,
        ports: Mapping[str, int] | None = None,
        worker_concurrency: int = 2,
    ) -> None:
        self.var = var.resolve()
        self.ports = dict(ports or DEV_PORTS)
        self.logs = self.var / "logs"
        self.redis: EmbeddedRedis | None = None
        self.env = self._environment(dict(os.environ if env is None else env))
        self.processes = {p.name: p for p in self._processes(worker_concurrency)}

    def _environment(self, env: dict[str, str]) -> dict[str, str]:
        env["HUB_VAR_DIR"] = str(self.var)
        if not env.get("REDIS_URL"):
            self.redis = EmbeddedRedis(self.var / "redis")
            env["REDIS_URL"] = embedded_redis_url(self.var)
        if not env.get("HUB_SECRET_KEY"):
            env["HUB_SECRET_KEY"] = secret_key(self.var)
        for service in SERVICES:
            env.setdefault(f"{service.upper()}_DATABASE_URL", f"sqlite:///{self.var / service}.db")
            env.setdefault(f"HUB_{service.upper()}_URL", f"http://127.0.0.1:{self.ports[service]}")
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _processes(self, concurrency: int) -> list[Process]:
        python = sys.executable
        processes = []
        for service in SERVICES:
            processes.append(
                Process(
                    f"{service}-web",
                    [python, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.ports[service]}",
                     "--workers", "1", "--threads", "8", "--graceful-timeout", "5", "--no-control-socket",
                     f"{service}:create_app()"],
                )
            )  # fmt: skip
            processes.append(
                Process(
                    f"{service}-worker",
                    [python, "-m", "celery", "-A", f"{service}.worker", "worker",
                     "--queues", service, "--concurrency", str(concurrency),
                     "--hostname", f"{service}-{self.ports[service]}@%h", "--loglevel", "INFO",
                     "--without-gossip", "--without-mingle"],
                )
            )  # fmt: skip
        processes.append(
            Process(
                "beat",
                [python, "-m", "celery", "-A", "hub_shared.beat", "beat", "--loglevel", "INFO",
                 "--schedule", str(self.var / "beat-schedule")],
            )
        )  # fmt: skip
        return processes

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = 60) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        if self.redis is not None:
            self.redis.start(preexec_fn=_child_setup)
        for service in SERVICES:
            migrate(service, self.env[f"{service.upper()}_DATABASE_URL"])
        for process in self.processes.values():
            self._spawn(process)
        self.wait_healthy(timeout)

    def _spawn(self, process: Process) -> None:
        log = open(self.logs / f"{process.name}.log", "ab")  # noqa: SIM115 (the child keeps it)
        process.popen = subprocess.Popen(
            process.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_child_setup,
        )
        log.close()

    def url(self, service: str) -> str:
        return self.env[f"HUB_{service.upper()}_URL"]

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for service in SERVICES:
            while True:
                self.check_alive()
                try:
                    if requests.get(f"{self.url(service)}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass  # not listening yet, or still loading the app
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{service} did not become healthy; see {self.logs}")
                time.sleep(0.1)

    def check_alive(self) -> None:
        for process in self.processes.values():
            if process.popen is not None and process.popen.poll() is not None:
                raise RuntimeError(
                    f"{process.name} exited with {process.popen.returncode}; "
                    f"see {self.logs / (process.name + '.log')}"
                )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one process and everything it started (for fault tests)."""
        popen = self.processes[name].popen
        assert popen is not None
        os.killpg(popen.pid, sig)
        popen.wait(timeout=30)

    def restart(self, name: str) -> None:
        process = self.processes[name]
        if process.popen is not None and process.popen.poll() is None:
            self._stop(process)
        self._spawn(process)

    def revive_redis(self) -> bool:
        """Start the embedded Redis again if it died (not if it was stopped on purpose): it is
        every queue, and with its append-only file it comes back with what it held."""
        redis = self.redis
        if redis is None or redis.process is None or redis.process.poll() is None:
            return False
        print(f"redis exited ({redis.process.returncode}); restarting")
        redis.start(preexec_fn=_child_setup)
        return True

    def supervise(self, stop_requested: threading.Event) -> None:
        """Restart a process that dies, as compose's restart policy would; stop when asked."""
        while not stop_requested.is_set():
            self.revive_redis()
            for process in self.processes.values():
                if process.popen is not None and process.popen.poll() is not None:
                    now = time.monotonic()
                    process.restarts = [t for t in process.restarts if now - t < 60] + [now]
                    if len(process.restarts) > 5:
                        raise RuntimeError(f"{process.name} keeps exiting; see {self.logs}")
                    print(f"{process.name} exited ({process.popen.returncode}); restarting")
                    self._spawn(process)
            stop_requested.wait(0.5)

    def _stop(self, process: Process, timeout: float = 15) -> None:
        popen = process.popen
        if popen is None or popen.poll() is not None:
            return
        popen.terminate()  # warm shutdown: gunicorn and celery finish what they hold
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):  # whatever is left of its process group
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(timeout=5)

    def stop(self) -> None:
        running = [p for p in self.processes.values() if p.popen and p.popen.poll() is None]
        for process in running:
            process.popen.terminate()  # type: ignore[union-attr]
        for process in running:
            self._stop(process)
        if self.redis is not None:
            self.redis.stop()
