from django.apps import AppConfig


class CarrierAccountsConfig(AppConfig):
    name = "hiretext.carrier_accounts"
    label = "carrier_accounts"
    verbose_name = "Carrier accounts"
