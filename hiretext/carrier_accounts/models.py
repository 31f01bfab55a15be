"""Which carrier an organisation texts through, and its credentials (secrets encrypted).

No row, or `carrier = simulator`: the platform's default carrier. Life-cycle::

    (none) --configure twilio--> TWILIO --check_connection--> checked ok / failed
    TWILIO --configure simulator--> SIMULATOR (stored credentials kept, unused)

Switching carrier or Twilio account is refused while the organisation holds active
numbers bought through the current one (they could neither send nor be released).
"""

from typing import ClassVar

from django.conf import settings
from django.db import models

from hiretext.accounts.models import Organization


class CarrierAccount(models.Model):
    class Carrier(models.TextChoices):
        SIMULATOR = "simulator", "Simulator (built in, no real texts)"
        TWILIO = "twilio", "Twilio (your own account)"

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="carrier_account"
    )
    carrier = models.CharField(max_length=30, choices=Carrier.choices, default=Carrier.SIMULATOR)
    account_sid = models.CharField(max_length=34, blank=True, help_text="Twilio AC… SID")
    auth_token_encrypted = models.TextField(
        blank=True, help_text="Fernet token; verifies webhooks, and signs API calls without a key"
    )
    api_key_sid = models.CharField(max_length=34, blank=True, help_text="Optional SK… SID")
    api_key_secret_encrypted = models.TextField(blank=True)
    messaging_service_sid = models.CharField(max_length=34, blank=True, help_text="Optional MG…")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    check_ok = models.BooleanField(null=True, blank=True)
    check_message = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            # Webhooks find their organisation(s) by the AccountSid in the form body.
            models.Index(fields=["carrier", "account_sid"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_carrier_display()} for {self.organization_id}"

    @property
    def has_auth_token(self) -> bool:
        return bool(self.auth_token_encrypted)

    @property
    def has_api_key_secret(self) -> bool:
        return bool(self.api_key_secret_encrypted)
