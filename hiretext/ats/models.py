"""The few ATS records hiretext needs: people to message, jobs, applications, timelines.

Consent life-cycle of a person::

    no consent --(granted: application form, user with a note, API, START)--> consent
    consent --(revoked: user, API, STOP keyword, carrier 21610)--> opted out
    opted out --(START keyword, or a user/API grant)--> consent

Every change is a `ConsentEvent` (the audit trail); the person row caches the state.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from hiretext.accounts.models import Organization, validate_time_zone
from hiretext.lib.phones import format_phone, is_mobile_capable


class Person(models.Model):
    """Fields shared by everyone hiretext can message."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    mobile = models.CharField(max_length=16, blank=True, help_text="E.164, e.g. +14155550142")
    sms_consent = models.BooleanField(default=False)
    sms_opted_out = models.BooleanField(
        default=False, help_text="The person said STOP (or equivalent); never text until START."
    )
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    external_id = models.CharField(max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def mobile_display(self) -> str:
        return format_phone(self.mobile) if self.mobile else ""

    @property
    def is_textable(self) -> bool:
        """A valid mobile (not a known landline), recorded consent and no opt-out."""
        return (
            bool(self.mobile)
            and self.sms_consent
            and not self.sms_opted_out
            and is_mobile_capable(self.mobile)
        )


class Candidate(Person):
    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=Q(external_id__isnull=False),
                name="candidate_external_id_unique_per_org",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "last_name", "first_name", "id"]),
            models.Index(fields=["organization", "mobile"]),
            models.Index(fields=["organization", "email"]),
        ]


class Company(models.Model):
    """A client company whose contacts recruiters talk to."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)

    class Meta:
        verbose_name_plural = "companies"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["organization", "name"], name="company_name_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(Person):
    """A client contact (hiring manager at a client company)."""

    company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    title = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=Q(external_id__isnull=False),
                name="contact_external_id_unique_per_org",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "last_name", "first_name", "id"]),
            models.Index(fields=["organization", "mobile"]),
        ]


class JobPosting(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    location = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True, max_length=20_000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    company = models.ForeignKey(Company, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "status", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.title


class Application(models.Model):
    """A candidate applying to a job posting."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        SCREENING = "screening", "Screening"
        INTERVIEW = "interview", "Interview"
        OFFER = "offer", "Offer"
        HIRED = "hired", "Hired"
        REJECTED = "rejected", "Rejected"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="applications")
    job = models.ForeignKey(JobPosting, on_delete=models.CASCADE, related_name="applications")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.APPLIED)
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["candidate", "job"], name="one_application_per_job"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} → {self.job}"


class PersonRef(models.Model):
    """Points at exactly one candidate or contact (database-checked)."""

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, null=True, blank=True)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def person(self) -> Candidate | Contact:
        person = self.candidate or self.contact
        assert person is not None
        return person


def exactly_one_person(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(
            Q(candidate__isnull=False, contact__isnull=True)
            | Q(candidate__isnull=True, contact__isnull=False)
        ),
        name=name,
    )


class ConsentEvent(PersonRef):
    """One change of SMS consent: the audit trail a lawyer can read."""

    class Source(models.TextChoices):
        APPLICATION = "application", "Application form"
        USER = "user", "Set by a user"
        API = "api", "API"
        SMS_KEYWORD = "sms_keyword", "SMS keyword"
        SMS_PHRASE = "sms_phrase", "SMS reply"
        CARRIER = "carrier", "Carrier report"
        IMPORT = "import", "Import"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    granted = models.BooleanField()
    source = models.CharField(max_length=20, choices=Source.choices)
    note = models.CharField(max_length=500, blank=True)
    wording = models.CharField(
        max_length=500, blank=True, help_text="The consent text shown, or the message received."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            exactly_one_person("consent_event_one_person")
        ]

    def __str__(self) -> str:
        return f"{'granted' if self.granted else 'revoked'} ({self.source})"


class ActivityEntry(PersonRef):
    """A line on a person's timeline; other apps write here through `ats.services.log_activity`."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        CONSENT = "consent", "Consent"
        SMS_OUT = "sms_out", "SMS sent"
        SMS_IN = "sms_in", "SMS received"
        EMAIL_OUT = "email_out", "E-mail sent"
        EMAIL_IN = "email_in", "E-mail received"
        APPLICATION = "application", "Application"
        INTERVIEW = "interview", "Interview"

    # Leading columns of the timeline indexes below: no single-column indexes of their own
    # (one write less for every message, note and consent change).
    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, null=True, blank=True, db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, db_index=False
    )
    # Not indexed: entries are read by person (the timelines below); only deleting a whole
    # organisation looks them up by it, and every entry written would update the index.
    # The person's organisation, copied; no database constraint, as `Message.organization`.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    summary = models.CharField(max_length=300)
    body = models.TextField(blank=True, max_length=20_000)
    # Indexed below only where set: a received text has no actor.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
    )
    ref_id = models.BigIntegerField(null=True, blank=True, help_text="e.g. the message id")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "activity entries"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            exactly_one_person("activity_entry_one_person")
        ]
        # Partial: an entry is a candidate's or a contact's, and most have no actor, so each
        # index holds only the rows it can find (an entry written touches two indexes less).
        indexes: ClassVar[list[models.Index]] = [
            models.Index(
                fields=["candidate", "-created_at", "-id"],
                condition=Q(candidate__isnull=False),
                name="activity_candidate_timeline",
            ),
            models.Index(
                fields=["contact", "-created_at", "-id"],
                condition=Q(contact__isnull=False),
                name="activity_contact_timeline",
            ),
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="activity_actor"),
        ]

    def __str__(self) -> str:
        return self.summary
