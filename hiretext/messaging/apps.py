from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "hiretext.messaging"
    label = "messaging"
