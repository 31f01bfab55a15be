"""Seats, the phone numbers they hold, the users on them, and monthly usage.

Life-cycle of a number::

    (carrier inventory) --buy_number + terms accepted--> ACTIVE on a seat
        (a TermsAcceptance and the first NumberCharge are written with it)
    ACTIVE --charge_monthly, each calendar month--> one NumberCharge per month
    ACTIVE --release_number--> RELEASED (charges stop; the carrier quarantines it)

The database enforces: one active number per seat, one active holder of an e164,
at most 3 users per seat (slot 1..3 unique per seat), one seat per user.
"""

from datetime import date
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from hiretext.accounts.models import Organization

DEFAULT_MONTHLY_ALLOWANCE = 250
MAX_USERS_PER_SEAT = 3


class Seat(models.Model):
    """A licence for one texting number; how many an organisation has is its plan."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="seats")
    position = models.PositiveSmallIntegerField(help_text="1, 2, … as shown on the page")
    monthly_allowance = models.PositiveIntegerField(
        default=DEFAULT_MONTHLY_ALLOWANCE, help_text="Copied to each number the seat buys."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["organization", "position"], name="seat_position"),
        ]
        ordering: ClassVar[list[str]] = ["organization", "position"]

    def __str__(self) -> str:
        return f"Seat {self.position}"


class PhoneNumber(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, related_name="numbers")
    e164 = models.CharField(max_length=16)
    carrier = models.CharField(max_length=30, help_text="Carrier slug, e.g. simulator, twilio")
    carrier_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    monthly_allowance = models.PositiveIntegerField(default=DEFAULT_MONTHLY_ALLOWANCE)
    monthly_price_cents = models.PositiveIntegerField(default=0)
    purchased_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["seat"], condition=Q(status="active"), name="one_active_number_per_seat"
            ),
            models.UniqueConstraint(
                fields=["e164"], condition=Q(status="active"), name="one_active_holder_per_e164"
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["e164", "status"])]

    def __str__(self) -> str:
        return self.e164


class SeatAssignment(models.Model):
    """A user on a seat (and so on its number). Slots make "at most 3" a unique key."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="assignments")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seat_assignment"
    )
    slot = models.PositiveSmallIntegerField()
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["seat", "slot"], name="seat_slot_unique"),
            models.CheckConstraint(
                condition=Q(slot__gte=1) & Q(slot__lte=MAX_USERS_PER_SEAT), name="seat_slot_1_to_3"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.seat}"


class MonthlyUsage(models.Model):
    """Outbound segments taken from a number's allowance in one calendar month (org's zone).

    A month with no row has used nothing: a new month starts full without any job.
    """

    number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="usage")
    period = models.DateField(help_text="First day of the month, in the organisation's zone")
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["number", "period"], name="usage_per_number_month"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.period:%Y-%m}: {self.used}"


class TermsAcceptance(models.Model):
    """Who agreed to a number's monthly terms, when, at which price and wording (audit)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    number = models.OneToOneField(
        PhoneNumber, on_delete=models.CASCADE, related_name="terms_acceptance"
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    accepted_by_email = models.EmailField(help_text="Kept if the user is deleted.")
    accepted_at = models.DateTimeField()
    monthly_price_cents = models.PositiveIntegerField()
    terms = models.TextField(help_text="The wording the user agreed to.")

    def __str__(self) -> str:
        return f"{self.number} accepted by {self.accepted_by_email}"


class NumberCharge(models.Model):
    """The monthly charge of a number for one calendar month (org's zone); one per month."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="charges")
    period = models.DateField(help_text="First day of the month charged, in the org's zone")
    amount_cents = models.PositiveIntegerField()
    charged_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["number", "period"], name="one_charge_per_number_month"
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["organization", "period"])]

    def __str__(self) -> str:
        return f"{self.number} {self.period:%Y-%m}: {self.amount_cents}¢"


def month_start(day: date) -> date:
    return day.replace(day=1)
