"""gunicorn settings for `hiretext serve` (README: Running at scale).

Sync workers, one request at a time each: measured here, Django under a sync WSGI worker
served several times more requests than under an ASGI server, and one process per request
in flight keeps SQLite's single writer and PostgreSQL's connection count predictable
(one connection per worker, kept between requests).
"""

import gc
import os

wsgi_app = "config.wsgi:application"
worker_class = os.environ.get("HIRETEXT_WORKER_CLASS", "sync")
threads = int(os.environ.get("HIRETEXT_THREADS", "1"))
# The app is imported once in the master, then forked: faster start, shared memory pages.
preload_app = True
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = int(os.environ.get("HIRETEXT_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
timeout = 60
graceful_timeout = 20
keepalive = 5
# Heartbeat files on tmpfs: a slow disk must not make the master kill healthy workers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - heartbeats
# Trust X-Forwarded-* only from the proxy in front (comma-separated addresses).
forwarded_allow_ips = os.environ.get("HIRETEXT_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("HIRETEXT_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("HIRETEXT_LOG_LEVEL", "info").lower()


def pre_fork(server: object, worker: object) -> None:
    """Freeze what the master loaded (Django, the app, its URL and template caches) before a
    worker is forked: it never becomes garbage, so the collector stops walking it.

    Without this a full collection in a worker walked some 150,000 startup objects and
    paused a request for over 100 ms (BENCHMARKS-HISTORY.md); the frozen pages also stay shared
    between the workers instead of being copied when the collector touches them.
    """
    gc.collect()
    gc.freeze()


def post_fork(server: object, worker: object) -> None:
    """No database connection may cross a fork: each worker opens its own."""
    from django.db import connections

    connections.close_all()
