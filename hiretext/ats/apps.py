from django.apps import AppConfig


class AtsConfig(AppConfig):
    name = "hiretext.ats"
    label = "ats"
