"""The process's listener: each backend wakes the right streams when an event is stored."""

import asyncio
import os
import shutil
import socket
import subprocess
import time

import pytest
from django.db import connection

from hiretext.inbox import events, fanout

pytestmark = pytest.mark.django_db(transaction=True)


def _reachable(host, port):
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture
def redis_url():
    """The machine's Redis (127.0.0.1:6379, as in CI), else a private redis-server."""
    if _reachable("127.0.0.1", 6379):
        yield "redis://127.0.0.1:6379/15"
        return
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("No Redis on 127.0.0.1:6379 and no redis-server to start")
        pytest.skip("No Redis on 127.0.0.1:6379 and redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(  # noqa: S603
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def publish(number_id):
    return events.publish("message", number_id=number_id, conversation_id=1).pk


def run_scenario(number, other):
    async def scenario():
        hub = fanout.Hub(events.backend_name())
        mine, theirs = hub.subscribe(), hub.subscribe()
        mine.number_id, theirs.number_id = number.pk, other.pk
        await asyncio.sleep(0.5)  # the listener connects (and LISTENs / SUBSCRIBEs)
        mine.flag.clear()
        theirs.flag.clear()
        started = asyncio.get_running_loop().time()
        # Written from another thread with its own connection, as another process would.
        event_id = await fanout.db(publish, number.pk)
        assert await mine.wait(2.0)
        woke_after = asyncio.get_running_loop().time() - started
        assert not await theirs.wait(0.3)  # an event of another number wakes nobody else
        assert hub.latest >= event_id
        hub.unsubscribe(mine)
        hub.unsubscribe(theirs)
        hub.task.cancel()
        return woke_after

    return asyncio.run(scenario())


def test_polling_backend(team, settings):
    number, other, *_ = team
    settings.HIRETEXT_EVENTS_BACKEND = "poll"
    settings.HIRETEXT_EVENTS_POLL_SECONDS = 0.05
    assert run_scenario(number, other) < 1.0


def test_postgres_listen_notify_backend(team, settings):
    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL (the PostgreSQL run covers it)")
    number, other, *_ = team
    settings.HIRETEXT_EVENTS_BACKEND = "postgres"
    settings.HIRETEXT_EVENTS_POLL_SECONDS = 10  # nothing polls: only NOTIFY can wake it
    assert run_scenario(number, other) < 0.5


def test_redis_pubsub_backend(team, settings, redis_url):
    number, other, *_ = team
    settings.REDIS_URL = redis_url
    settings.HIRETEXT_EVENTS_BACKEND = ""  # REDIS_URL alone selects Redis
    assert events.backend_name() == "redis"
    assert run_scenario(number, other) < 0.5


def test_redis_events_share_one_connection(team, settings, redis_url, monkeypatch):
    import redis

    number, *_ = team
    settings.REDIS_URL = redis_url
    settings.HIRETEXT_EVENTS_BACKEND = "redis"
    connects = []
    real_connect = redis.connection.AbstractConnection.connect

    def counted(self):
        if self._sock is None:
            connects.append(self)
        return real_connect(self)

    monkeypatch.setattr(redis.connection.AbstractConnection, "connect", counted)
    subscriber = redis.Redis.from_url(redis_url).pubsub()
    subscriber.subscribe(events.CHANNEL)
    assert subscriber.get_message(timeout=1)["type"] == "subscribe"
    connects.clear()
    written = [publish(number.pk) for _ in range(3)]
    received = [subscriber.get_message(timeout=1) for _ in written]
    subscriber.close()
    assert [m["data"].decode() for m in received] == [f"{e}:{number.pk}" for e in written]
    assert len(connects) <= 1


def test_backend_choice(settings):
    settings.REDIS_URL = ""
    settings.HIRETEXT_EVENTS_BACKEND = ""
    expected = "postgres" if connection.vendor == "postgresql" else "poll"
    assert events.backend_name() == expected
    settings.HIRETEXT_EVENTS_BACKEND = "poll"
    assert events.backend_name() == "poll"
    settings.HIRETEXT_EVENTS_BACKEND = "carrier-pigeon"
    assert events.backend_name() == expected


def test_a_malformed_payload_wakes_everyone(team):
    number, other, *_ = team
    hub = fanout.Hub("poll")
    a, b = fanout.Subscription(number.pk), fanout.Subscription(other.pk)
    hub.subscriptions |= {a, b}
    hub.on_payload("12:" + str(number.pk))
    assert a.flag.is_set() and not b.flag.is_set()
    a.flag.clear()
    hub.on_payload(b"garbage")
    assert a.flag.is_set() and b.flag.is_set()


def test_redis_down_does_not_fail_the_write(team, settings):
    number, *_ = team
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.HIRETEXT_EVENTS_BACKEND = "redis"
    event_id = publish(number.pk)
    assert events.latest_id() == event_id
