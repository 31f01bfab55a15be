"""The two denominators of every benchmark ratio (bench/README: calibration).

Both go through the full middleware stack of the production settings, so a ratio to them
measures what our own code adds, not what the server, Django or the database cost.
"""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from hiretext.benchprobe.models import Probe

_INSERT = f"INSERT INTO {Probe._meta.db_table} (value) VALUES (%s)"  # noqa: S608 - constant


def bare(request: HttpRequest) -> HttpResponse:
    """The constant-200 ceiling: Django's request cycle and nothing else."""
    return HttpResponse(b"ok", content_type="text/plain")


@csrf_exempt
def insert(request: HttpRequest) -> HttpResponse:
    """One INSERT through the ORM in autocommit: the ceiling for a request that writes."""
    Probe.objects.create(value=1)
    return HttpResponse(b"ok", content_type="text/plain")


@csrf_exempt
def insert_raw(request: HttpRequest) -> HttpResponse:
    """The same INSERT through a raw cursor: what the ORM itself costs, by difference."""
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [1])
    return HttpResponse(b"ok", content_type="text/plain")
