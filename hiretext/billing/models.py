"""The credit ledger: one row per top-up, debit or refund; an organisation's balance is the sum.

Credits pay for segments beyond a number's monthly allowance when the organisation's
overage policy allows it (1 credit per segment). Rows are never edited or deleted.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models

from hiretext.accounts.models import Organization


class CreditEntry(models.Model):
    class Kind(models.TextChoices):
        TOPUP = "topup", "Top-up"
        DEBIT = "debit", "Debit"
        REFUND = "refund", "Refund"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="credit_entries"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.IntegerField(help_text="Signed: top-ups and refunds add, debits subtract.")
    message = models.ForeignKey(
        "messaging.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "credit entries"
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "-created_at", "-id"]),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="debit", amount__lt=0)
                    | models.Q(kind__in=["topup", "refund"], amount__gt=0)
                ),
                name="credit_entry_sign_matches_kind",
            ),
            # A message is debited at most once and refunded at most once.
            models.UniqueConstraint(
                fields=["message", "kind"],
                condition=models.Q(message__isnull=False),
                name="credit_entry_once_per_message_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+d}"
