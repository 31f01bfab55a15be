"""Background work for messaging: the carrier call, with retries and back-off.

Retry policy: up to `services.MAX_ATTEMPTS` attempts, waiting `BACKOFF[n]` seconds after
the n-th failure. Backends that cannot defer (the immediate backend used in tests) retry
at once, so a test sees the whole sequence synchronously.
"""

from datetime import timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from hiretext.lib import tasks as task_queue
from hiretext.messaging import services

BACKOFF = (5, 30, 120, 600, 1800)


@task
def deliver_message(message_id: int, attempt: int = 1) -> str:
    outcome = services.deliver(message_id)
    if outcome != services.Outcome.RETRY:
        return outcome
    if attempt >= services.MAX_ATTEMPTS:
        services.give_up(message_id)
        return services.Outcome.DONE
    delay = BACKOFF[min(attempt - 1, len(BACKOFF) - 1)]
    retry = deliver_message
    if retry.get_backend().supports_defer:
        retry = retry.using(run_after=timezone.now() + timedelta(seconds=delay))
    retry.enqueue(message_id, attempt + 1)
    return outcome


def queue_delivery(message_id: int) -> None:
    """Queue the delivery of an accepted message, from inside its transaction.

    With the database backend the task row is written in that transaction (one cached
    INSERT, the same row the backend's ORM `enqueue` writes: `lib.tasks.enqueue`), so a
    message is queued exactly when it commits. Other backends (the immediate one in tests)
    are called once it has committed, as they may run the task at once.
    """
    from django_tasks_db.backend import DatabaseBackend

    if not isinstance(deliver_message.get_backend(), DatabaseBackend):
        transaction.on_commit(lambda: deliver_message.enqueue(message_id))
        return
    task_queue.enqueue(deliver_message, message_id)
