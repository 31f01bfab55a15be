from django.apps import AppConfig


class CarriersConfig(AppConfig):
    name = "hiretext.carriers"
    label = "carriers"
