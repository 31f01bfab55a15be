"""Model instances for the hot paths (`lib.loaded`): the ORM's own, built faster."""

import pytest
from django.db import connection

from hiretext.lib import loaded

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model_name", ["messaging.Message", "accounts.User", "ats.Candidate"])
def test_instances_built_directly_are_the_ones_from_db_builds(model_name, org):
    from django.apps import apps

    model = apps.get_model(model_name)
    fields = model._meta.concrete_fields
    attnames = [field.attname for field in fields]
    values = [field.get_default() for field in fields]
    values[attnames.index("id")] = 12345
    assert loaded._plain_init(model)
    direct = loaded.from_db(model, attnames, list(values))
    built = model.from_db(connection.alias, attnames, list(values))
    assert type(direct) is model
    assert {k: v for k, v in vars(direct).items() if k != "_state"} == {
        k: v for k, v in vars(built).items() if k != "_state"
    }
    assert (direct._state.adding, direct._state.db) == (False, connection.alias)
    assert direct == built
    assert direct._state.fields_cache == {}


def test_an_init_signal_listener_gets_the_instances_built_by_django(org):
    from django.db.models.signals import post_init

    from hiretext.accounts.models import Organization

    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(listener, sender=Organization)
    try:
        row = loaded.written(Organization, {"id": org.pk, "name": org.name})
    finally:
        post_init.disconnect(listener, sender=Organization)
    assert seen == [row]


def test_a_directly_built_instance_saves_and_follows_relations(org, recruiter):
    from hiretext.accounts.models import User

    user = loaded.written(
        User,
        {
            "id": recruiter.pk,
            "organization_id": org.pk,
            "email": recruiter.email,
            "password": recruiter.password,
        },
    )
    assert user.organization == org  # the foreign key, read through its descriptor
    user.first_name = "Renamed"
    user.save(update_fields=["first_name"])
    recruiter.refresh_from_db()
    assert recruiter.first_name == "Renamed"
