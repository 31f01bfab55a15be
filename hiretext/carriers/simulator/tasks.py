"""The simulator's delivery callbacks run as tasks, after the send is committed."""

from django.tasks import task

from hiretext.carriers.simulator import phones


@task
def post_delivery_status(external_id: str) -> int:
    response = phones.deliver_status(external_id)
    return response.status_code if response is not None else 0
