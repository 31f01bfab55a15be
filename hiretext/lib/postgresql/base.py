"""Django's PostgreSQL backend, with a health check that costs no round trip.

With CONN_HEALTH_CHECKS a kept connection is checked before each request uses it; Django
checks by running `SELECT 1`, a whole round trip per request (on an inbound webhook, one
of three). A server that ends a connection (a restart, `pg_terminate_backend`, an idle
timeout) tells the client so, with an error message or by closing the socket, and either
makes the socket readable while the connection is idle. So an idle connection whose socket
has nothing to read is known to be usable without asking; when something did arrive,
Django's `SELECT 1` decides (and reads it). A server that vanishes without a word fails the
next statement with either check.
"""

import select
from typing import Any

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        conn: Any = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        try:
            readable, _, _ = select.select([conn.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        if not readable:
            return True
        return bool(super().is_usable())
