from django.apps import AppConfig


class CarrierAccountsConfig(AppConfig):
    name = "hiretext.carrier_accounts"
    label = "carrier_accounts"
    verbose_name = "Carrier accounts"

    def ready(self) -> None:
        from hiretext.web.admin_links import register_admin_link

        register_admin_link(
            "Carrier", "carrier_accounts:settings", "manage_text_messaging", order=20
        )
