from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "hiretext.mail"
    label = "mail"

    def ready(self) -> None:
        from hiretext.mail import receivers

        receivers.connect()
