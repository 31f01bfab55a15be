"""Django's database sessions, read with one plain SELECT (prepared on PostgreSQL).

Every page request loads its session first; the ORM took longer to build that query than
the database to run it. Writing, expiry and the async path are Django's own.
"""

from functools import cache
from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from hiretext.lib import loaded, prepared

KEY_LENGTH = 40  # django_session.session_key


@cache
def _session_statement(vendor: str) -> str:
    return (
        f"SELECT {loaded.columns(Session, 's')} FROM django_session s "  # noqa: S608 - names from models
        "WHERE s.session_key = %s AND s.expire_date > %s"
    )


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        key = self.session_key
        row = None
        if key and len(key) <= KEY_LENGTH:
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            row = prepared.fetchone(_session_statement(connection.vendor), [key, now])
        if row is None:
            # Expired, unknown or malformed: a new session, as Django's store does.
            self._session_key = None
            return None
        return loaded.build(Session, row)
