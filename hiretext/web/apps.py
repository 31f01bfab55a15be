from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "hiretext.web"
    label = "web"
