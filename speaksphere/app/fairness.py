"""Fair queueing: one client may not fill gradio's queue (no speech here).

Gradio's queue serves events first come, first served, up to `max_queue` in all: one client sent 70
analyses and another's 1.4-s clip waited 69 s. Every queued event, whatever the route that queues it
("/queue/join" from the browser and gradio_client, "/call/<api_name>" from curl), goes through the
queue's `push`; wrapped here, it refuses a client (its address, as the per-client limits key it) that
already has `per_client` events waiting or running, with 429 and a message saying so, before anything
is queued.
"""

from __future__ import annotations

import logging
from collections import Counter

from fastapi import HTTPException

from .api import _client

__all__ = ["WAITING_MESSAGE", "install_fair_queue"]

WAITING_MESSAGE = ("You already have {} requests waiting; wait for them to finish before sending more "
                   "(each client may have {} at a time, so that everyone gets a turn).")
log = logging.getLogger("speaksphere.app")


def install_fair_queue(blocks, per_client: int, proxies: tuple = ()) -> None:
    """Cap each client's queued and running events at `per_client` (0: no cap) in `blocks`' queue, which
    `blocks.queue()` made; `proxies` (api.trusted_networks) as for the other per-client limits."""
    if per_client <= 0:
        return
    queue = blocks._queue  # gradio makes it once, in Blocks.queue(); launch() starts it
    push = queue.push
    admitting: Counter[str] = Counter()  # pushes of each client under way (push awaits before it registers)

    async def fair_push(body, request, username):
        key = _client(request, proxies)
        # events stay in event_ids_to_events from push until they are processed, removed or cancelled
        waiting = sum(_client(e.request, proxies) == key for e in list(queue.event_ids_to_events.values()))
        waiting += admitting[key]
        if waiting >= per_client:
            log.info("refused a queued call: %d waiting from one client", waiting)
            raise HTTPException(status_code=429, detail=WAITING_MESSAGE.format(waiting, per_client))
        admitting[key] += 1  # no await between the count and this: concurrent pushes see each other
        try:
            return await push(body, request, username)
        finally:
            admitting[key] -= 1
            if not admitting[key]:
                del admitting[key]

    queue.push = fair_push
