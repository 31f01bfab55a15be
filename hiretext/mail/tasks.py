"""Background work for e-mail: the mail-server call, with the same retries as texts.

Up to `services.MAX_ATTEMPTS` attempts, waiting `BACKOFF[n]` seconds after the n-th failure;
backends that cannot defer (the immediate backend in tests) retry at once.
"""

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from hiretext.mail import services
from hiretext.messaging.tasks import BACKOFF


@task
def deliver_email(message_id: int, attempt: int = 1) -> str:
    outcome = services.deliver(message_id)
    if outcome != services.Outcome.RETRY:
        return outcome
    if attempt >= services.MAX_ATTEMPTS:
        services.give_up(message_id)
        return services.Outcome.DONE
    delay = BACKOFF[min(attempt - 1, len(BACKOFF) - 1)]
    retry = deliver_email
    if retry.get_backend().supports_defer:
        retry = retry.using(run_after=timezone.now() + timedelta(seconds=delay))
    retry.enqueue(message_id, attempt + 1)
    return outcome
