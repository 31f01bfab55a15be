"""Background work of the inbox: reply e-mails (never in the webhook's request) and pruning."""

from django.tasks import task

from hiretext.inbox import services


@task
def notify_reply(message_id: int) -> list[str]:
    return services.notify_reply(message_id)


@task
def prune_events() -> int:
    return services.prune_events()
