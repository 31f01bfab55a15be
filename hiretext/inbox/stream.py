"""The Server-Sent Events stream of one user: resumable, filtered when sent, bounded in time.

Protocol: a `retry:` line first; then one event per `Event` row of the user's number
(`id:` is the row id, `event:` its kind, `data:` JSON), a `state` event (no id) with the
unread count on connect and whenever the user's number changes, and `: keep-alive`
comments between. The stream ends after HIRETEXT_EVENTS_MAX_SECONDS; the browser
reconnects after `retry:` milliseconds and sends `Last-Event-ID`, so it receives every
event after the last one it saw, once.

What a user may receive is decided per read, from the seat assignments of that moment:
someone removed from a number stops receiving its events at the next read.

Two drivers share that logic: `async_stream` (ASGI: sleeps on the process's `fanout.Hub`,
no database connection held between reads) and `sync_stream` (WSGI: answers and closes,
the browser polling every `retry:`; or, with HIRETEXT_EVENTS_WSGI_HOLD_SECONDS, holds its
worker thread and polls the table every HIRETEXT_EVENTS_POLL_SECONDS, as the test server
does).
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace

from django.conf import settings

from hiretext.inbox import events, fanout

log = logging.getLogger(__name__)

MAX_EVENT_ID = 2**63 - 1
UNSET = -1  # "no number seen yet": the first read always sends the state


@dataclass(frozen=True)
class Options:
    user_id: int
    after: int  # the last event id the browser has
    poll: float
    heartbeat: float
    lifetime: float
    retry_ms: int

    @classmethod
    def for_user(cls, user_id: int, after: int) -> "Options":
        return cls(
            user_id=user_id,
            after=after,
            poll=float(getattr(settings, "HIRETEXT_EVENTS_POLL_SECONDS", 0.15)),
            heartbeat=float(getattr(settings, "HIRETEXT_EVENTS_HEARTBEAT_SECONDS", 15)),
            lifetime=float(getattr(settings, "HIRETEXT_EVENTS_MAX_SECONDS", 300)),
            retry_ms=int(getattr(settings, "HIRETEXT_EVENTS_RETRY_MS", 2000)),
        )

    @classmethod
    def for_wsgi(cls, user_id: int, after: int) -> "Options":
        """A WSGI worker serves one request at a time: by default the stream answers what
        is there and closes, and the browser asks again after a short `retry:` (polling
        in the SSE protocol). HIRETEXT_EVENTS_WSGI_HOLD_SECONDS > 0 keeps it open (threaded
        servers, e.g. the test server)."""
        hold = float(getattr(settings, "HIRETEXT_EVENTS_WSGI_HOLD_SECONDS", 0))
        options = cls.for_user(user_id, after)
        if hold > 0:
            return replace(options, lifetime=min(hold, options.lifetime))
        retry = int(getattr(settings, "HIRETEXT_EVENTS_WSGI_RETRY_MS", 1000))
        return replace(options, lifetime=0, retry_ms=retry)


def parse_event_id(raw: str | None) -> int | None:
    """A `Last-Event-ID` (or `?after=`) value, or None if absent or not a sane id."""
    if raw is None:
        return None
    raw = raw.strip()
    if not raw or len(raw) > 19 or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if value <= MAX_EVENT_ID else None


class Reader:
    """The cursor and last known number of one stream; turns a read into frames."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.cursor = options.after
        self.number_id: int | None = UNSET

    def read(self) -> tuple[str, bool]:
        """(frames to send, whether more events are waiting). Runs ORM code: sync."""
        known = self.number_id
        batch = events.pending(self.options.user_id, self.cursor)
        changed = batch.number_id != known
        if changed and not batch.events:
            unread = events.unread_count(batch.number_id)
        else:
            unread = batch.unread
        frames = [events.frame(event, unread) for event in batch.events]
        if changed:
            frames.append(events.state_frame(unread, batch.number_id))
        self.number_id = batch.number_id
        if batch.last_id is not None:
            self.cursor = batch.last_id
        return "".join(frames), batch.full


def opening(options: Options) -> str:
    if options.lifetime <= 0:
        return f"retry: {options.retry_ms}\n\n"
    # The comment pads past the first-chunk buffering of some proxies and browsers.
    return f"retry: {options.retry_ms}\n: {' ' * 2048}\n\n"


KEEP_ALIVE = ": keep-alive\n\n"


async def async_stream(options: Options) -> AsyncIterator[str]:
    hub = fanout.hub()
    subscription = hub.subscribe()
    reader = Reader(options)
    loop = asyncio.get_running_loop()
    started = last_sent = loop.time()
    try:
        yield opening(options)
        while True:
            try:
                frames, more = await fanout.db(reader.read)
            except Exception as exc:  # noqa: BLE001 - the browser reconnects after `retry:`
                log.warning("Live stream of user %s ended: %s", options.user_id, exc)
                return
            subscription.number_id = None if reader.number_id == UNSET else reader.number_id
            if frames:
                yield frames
                last_sent = loop.time()
            if more:
                continue
            left = options.lifetime - (loop.time() - started)
            if left <= 0:
                return
            woken = await subscription.wait(
                min(options.heartbeat - (loop.time() - last_sent), left)
            )
            if not woken and loop.time() - last_sent >= options.heartbeat:
                yield KEEP_ALIVE
                last_sent = loop.time()
    finally:
        hub.unsubscribe(subscription)


def sync_stream(options: Options) -> Iterator[str]:
    """The WSGI driver; Django closes (or keeps) its connection when the response ends."""
    reader = Reader(options)
    started = last_sent = time.monotonic()
    yield opening(options)
    while True:
        try:
            frames, more = reader.read()
        except Exception as exc:  # noqa: BLE001 - the browser reconnects after `retry:`
            log.warning("Live stream of user %s ended: %s", options.user_id, exc)
            return
        if frames:
            yield frames
            last_sent = time.monotonic()
        if more:
            continue
        if time.monotonic() - started >= options.lifetime:
            return
        time.sleep(options.poll)
        if time.monotonic() - last_sent >= options.heartbeat:
            yield KEEP_ALIVE
            last_sent = time.monotonic()
