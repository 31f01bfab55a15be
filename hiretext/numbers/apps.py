from django.apps import AppConfig


class NumbersConfig(AppConfig):
    name = "hiretext.numbers"
    label = "numbers"
