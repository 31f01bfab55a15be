"""What the simulated phones have sent and received, and phones set to fail.

Carrier-side state, not the app's: the app learns about these messages only through the
signed webhooks, as it would from a real carrier.
"""

from typing import ClassVar

from django.db import models


class SimulatorPhoneMessage(models.Model):
    class Direction(models.TextChoices):
        TO_PHONE = "to_phone", "Received by the phone"
        FROM_PHONE = "from_phone", "Sent by the phone"

    phone = models.CharField(max_length=16, help_text="The simulated person's phone (E.164)")
    number = models.CharField(max_length=16, help_text="Our number at the other end (E.164)")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    body = models.TextField()
    external_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=12, default="sent")
    error_code = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "carriers"
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["phone", "-id"])]

    def __str__(self) -> str:
        return f"{self.direction} {self.phone}: {self.body[:30]}"


class SimulatorPhone(models.Model):
    """A phone set to fail: texts to it end `undelivered`/`failed` with an error code."""

    e164 = models.CharField(max_length=16, unique=True)
    fail_status = models.CharField(max_length=12, blank=True)
    error_code = models.CharField(max_length=30, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "carriers"

    def __str__(self) -> str:
        return f"{self.e164} ({self.fail_status or 'ok'})"
