"""Background work of the inbox: reply e-mails (never in the webhook's request) and pruning."""

from django.tasks import task, task_backends
from django.tasks.backends.immediate import ImmediateBackend

from hiretext.inbox import services


def run_inline() -> bool:
    """Whether tasks run in the request that enqueues them (no worker: tests, a demo)."""
    return isinstance(task_backends["default"], ImmediateBackend)


@task
def notify_reply(message_id: int) -> list[str]:
    """One message's reply e-mails (queued per message before reply notices replaced it)."""
    return services.notify_reply(message_id)


@task
def prune_events() -> int:
    return services.prune_events()
