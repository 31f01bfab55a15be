from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "hiretext.accounts"
    label = "accounts"

    def ready(self) -> None:
        from hiretext.accounts.services import ensure_roles

        def _roles(**_: object) -> None:
            ensure_roles()

        post_migrate.connect(_roles, sender=self, weak=False, dispatch_uid="hiretext-roles")
