"""One change to kombu's Redis transport: an acknowledgement that Redis did not take still frees
the worker's prefetch slot.

kombu's Redis QoS removes a message from Redis's unacked index and only then from the worker's
own count of messages in hand. When Redis does not answer in time (a pause past the socket
timeout), the first step raises, `Couldn't ack` is logged, and the message stays counted
against the prefetch limit for good; once every slot is taken so (two, at concurrency 2) the
worker never takes another task, though it lives on (issue 11's first defect, "the wedge").

Freeing the slot whatever Redis answered loses nothing: the message is still in Redis's unacked
index, so Redis hands it out again after the visibility timeout, and the handler's inbox knows
it was done. The canary (hub_shared.canary) stays as the backstop for any other way a worker
can stop consuming.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual


class SlotReleasingQoS(kombu_redis.QoS):
    def ack(self, delivery_tag: Any) -> None:
        try:
            self._remove_from_indices(delivery_tag).execute()
        finally:
            virtual.QoS.ack(self, delivery_tag)  # the slot is free, whatever Redis answered

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        try:
            if requeue:
                self.restore_by_tag(delivery_tag, leftmost=True)
            else:
                self._remove_from_indices(delivery_tag).execute()
        finally:
            virtual.QoS.ack(self, delivery_tag)


def release_slots_on_failed_acks() -> None:
    """Use SlotReleasingQoS on every Redis channel (Sentinel's too: it inherits the attribute)."""
    kombu_redis.Channel.QoS = SlotReleasingQoS
