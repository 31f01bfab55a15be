"""The simulator's delivery callbacks run as tasks, after the send is committed."""

from django.tasks import task

from hiretext.carriers.simulator import phones


@task
def post_delivery_status(external_id: str, reference: str = "") -> int:
    """`reference` defaults to none so reports queued before it existed still run."""
    response = phones.deliver_status(external_id, reference)
    return response.status_code if response is not None else 0
