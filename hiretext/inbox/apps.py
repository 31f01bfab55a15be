from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "hiretext.inbox"
    label = "inbox"

    def ready(self) -> None:
        from hiretext.inbox import handlers

        handlers.connect()
