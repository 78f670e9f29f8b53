"""Each worker proves, every few seconds, that it still takes work from its queues: a worker
that stops consuming while alive is found and exits, so its supervisor (`hub run`, compose's
restart policy) starts a new one.

Why: a Celery worker whose acknowledgement fails while Redis is unresponsive past the socket
timeout logs `CRITICAL Couldn't ack ...` and never consumes again (kombu keeps the failed
delivery counted against the prefetch limit), yet the process lives on: a process check sees
nothing wrong. Measured on the hub: a 45 s Redis stall at the start of a sweep left most
requests without an offer for good.

How: a thread in the worker's main process sends `<service>.canary` to the worker's own direct
queue (`worker_direct`: consumed by the same consumer as its service's queue, so it waits
behind no other worker's backlog and no other worker can answer for it). The task, in a pool
process, writes the token to Redis; the thread reads it back. Not answered within the limit
while Redis itself answers: the worker logs why and exits. While Redis does not answer, the
worker is not blamed: Celery reconnects by itself, and the check starts again when Redis is back.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from typing import Any

from celery import Celery
from celery.signals import worker_ready
from celery.utils import worker_direct

from hub_shared.config import Settings
from hub_shared.redis_client import redis_client

log = logging.getLogger(__name__)

EXIT_CODE = 3  # the worker stopped consuming


def canary_key(hostname: str) -> str:
    return f"hub:canary:{hostname}"


def add_canary(app: Celery, settings: Settings) -> None:
    """Register the canary task and, in a worker, start the thread that sends it."""
    task_name = f"{settings.service}.canary"
    # One client for every canary (it connects when first used, and again after a fork).
    redis = redis_client(settings.redis_url, settings.redis_sentinel_master)

    @app.task(name=task_name, ignore_result=True, acks_late=False)
    def canary(hostname: str, token: str) -> None:
        redis.set(canary_key(hostname), token, ex=max(300, int(settings.canary_limit)))

    @worker_ready.connect(weak=False)
    def start_watching(sender: Any, **_: Any) -> None:
        if sender.app is not app:
            return
        watcher = Canary(app, settings, hostname=sender.hostname, task_name=task_name)
        threading.Thread(target=watcher.watch, name="hub-canary", daemon=True).start()


class Canary:
    def __init__(self, app: Celery, settings: Settings, *, hostname: str, task_name: str) -> None:
        self.app, self.hostname, self.task_name = app, hostname, task_name
        self.every, self.limit = settings.canary_seconds, settings.canary_limit
        self.redis = redis_client(settings.redis_url, settings.redis_sentinel_master)

    def watch(self) -> None:
        while True:
            time.sleep(self.every)
            if not self.answered():
                log.critical(
                    "worker %s took no canary from its queue in %s s while Redis answered: it has "
                    "stopped consuming; exiting so that it is started again",
                    self.hostname,
                    self.limit,
                )
                logging.shutdown()
                os._exit(EXIT_CODE)  # the pool's processes die with it (Celery sets their pdeathsig)

    def answered(self) -> bool:
        """Whether the canary came back in time (or Redis was away, which is not the worker's fault)."""
        token = uuid.uuid4().hex
        try:
            self.app.send_task(
                self.task_name,
                args=[self.hostname, token],
                queue=worker_direct(self.hostname),
                expires=self.limit,
                retry=False,
            )
        except Exception as exc:  # the broker is away: Celery's own reconnection deals with it
            log.warning("canary not sent (%s); trying again later", exc)
            return True
        deadline = time.monotonic() + self.limit
        while time.monotonic() < deadline:
            try:
                if self.redis.get(canary_key(self.hostname)) == token.encode():
                    return True
            except Exception:  # Redis is away: give the worker the whole limit once it is back
                deadline = time.monotonic() + self.limit
            time.sleep(0.5)
        return False
