from django.apps import AppConfig


class NumbersConfig(AppConfig):
    name = "hiretext.numbers"
    label = "numbers"

    def ready(self) -> None:
        from hiretext.web.admin_links import register_admin_link

        register_admin_link(
            "Text Messaging Numbers", "numbers:seats", "manage_text_messaging", order=10
        )
