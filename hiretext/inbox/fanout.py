"""One listener per process wakes the streams it serves when an event is stored anywhere.

Backends (`events.backend_name`): PostgreSQL LISTEN/NOTIFY on one dedicated connection,
Redis pub/sub, or polling the event table (SQLite). A wake-up only says "event N on number
M exists": each stream then reads what its user may see from the table, so a lost or
duplicated notification costs a read, never an event (streams also re-read at each
heartbeat). The listener runs while at least one stream is open.
"""

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, connections

from hiretext.inbox import events

log = logging.getLogger(__name__)

IDLE_SECONDS = 30  # the listener stops this long after its last stream closed
RECONNECT_SECONDS = 1.0


async def db[T](fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ORM code in a worker thread and close its connection straight after.

    Streams last minutes: no connection may stay open between their reads (under ASGI,
    CONN_MAX_AGE is 0; this also holds when it is not).
    """

    def call() -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    return await sync_to_async(call, thread_sensitive=False)()


class Subscription:
    """A stream's wake-up flag; `number_id` None means "wake me for any number"."""

    def __init__(self, number_id: int | None = None) -> None:
        self.number_id = number_id
        self.flag = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        """True if woken before `timeout` seconds passed."""
        try:
            await asyncio.wait_for(self.flag.wait(), timeout=max(timeout, 0))
        except TimeoutError:
            return False
        self.flag.clear()
        return True


class Hub:
    """The process's listener and the streams waiting on it (one per event loop)."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.latest = 0
        self.subscriptions: set[Subscription] = set()
        self.task: asyncio.Task[None] | None = None

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        self.subscriptions.add(subscription)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscriptions.discard(subscription)

    def notify(self, event_id: int, number_id: int | None) -> None:
        self.latest = max(self.latest, event_id)
        for subscription in self.subscriptions:
            if number_id is None or subscription.number_id in (None, number_id):
                subscription.flag.set()

    def wake_all(self) -> None:
        for subscription in self.subscriptions:
            subscription.flag.set()

    def on_payload(self, payload: str | bytes) -> None:
        """`"<event id>:<number id>"`; anything else wakes everyone (they re-read anyway)."""
        if isinstance(payload, bytes):
            payload = payload.decode("ascii", "replace")
        event_id, _, number_id = payload.partition(":")
        try:
            self.notify(int(event_id), int(number_id))
        except ValueError:
            self.wake_all()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        idle_since: float | None = None
        while True:
            if not self.subscriptions:
                # No await between this check and `return`: a stream subscribing meanwhile
                # either keeps this task alive or finds it done and starts another.
                idle_since = idle_since if idle_since is not None else loop.time()
                if loop.time() - idle_since > IDLE_SECONDS:
                    return
                await asyncio.sleep(0.5)
                continue
            idle_since = None
            try:
                if self.backend == "postgres":
                    await self._listen_postgres()
                elif self.backend == "redis":
                    await self._listen_redis()
                else:
                    await self._poll()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a lost listener reconnects; streams still re-read
                log.warning(
                    "Inbox event listener (%s) failed; reconnecting", self.backend, exc_info=True
                )
                self.wake_all()
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _poll(self) -> None:
        """SQLite (or no fan-out configured): read new event ids every few hundred ms."""
        interval = float(getattr(settings, "HIRETEXT_EVENTS_POLL_SECONDS", 0.05))
        if not self.latest:
            self.latest = await db(events.latest_id)
        while self.subscriptions:
            for event_id, number_id in await db(events.events_after, self.latest):
                self.notify(event_id, number_id)
            await asyncio.sleep(interval)

    async def _listen_postgres(self) -> None:
        import psycopg
        from psycopg import sql

        conn = await psycopg.AsyncConnection.connect(postgres_conninfo(), autocommit=True)
        async with conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(events.CHANNEL)))
            # Anything stored before LISTEN took effect: streams re-read once.
            self.wake_all()
            while self.subscriptions:
                async for notify in conn.notifies(timeout=5.0):
                    self.on_payload(notify.payload)

    async def _listen_redis(self) -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(settings.REDIS_URL)
        try:
            pubsub = client.pubsub()
            await pubsub.subscribe(events.CHANNEL)
            self.wake_all()
            try:
                while self.subscriptions:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                    if message and message.get("type") == "message":
                        self.on_payload(message["data"])
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
        finally:
            await client.aclose()


def postgres_conninfo() -> str:
    """libpq connection string of the default database (the test database under tests)."""
    from psycopg.conninfo import make_conninfo

    s = connection.settings_dict
    params = {
        "dbname": s.get("NAME"),
        "user": s.get("USER"),
        "password": s.get("PASSWORD"),
        "host": s.get("HOST"),
        "port": str(s.get("PORT") or ""),
    }
    options = {k: v for k, v in (s.get("OPTIONS") or {}).items() if isinstance(v, str | int)}
    params.update(
        {
            k: str(v)
            for k, v in options.items()
            if k in {"sslmode", "sslrootcert", "application_name"}
        }
    )
    return make_conninfo("", **{k: v for k, v in params.items() if v})


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """The running loop's hub (a server has one loop per process; tests may have several)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = Hub(events.backend_name())
    return found
