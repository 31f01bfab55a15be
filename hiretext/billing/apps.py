from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "hiretext.billing"
    label = "billing"
