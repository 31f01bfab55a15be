"""Organisations (tenants), their users, roles as groups, API tokens."""

import functools
import hashlib
import secrets
import zoneinfo
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models


@functools.cache
def known_time_zones() -> frozenset[str]:
    """IANA zone names; reading the zone database takes tens of milliseconds, so once."""
    return frozenset(zoneinfo.available_timezones() - {"localtime", "Factory"})


def validate_time_zone(value: str) -> None:
    if value not in known_time_zones():
        raise ValidationError(f"“{value[:60]}” is not a known time zone.")


class Organization(models.Model):
    """A customer of hiretext: every record of the product belongs to exactly one."""

    class OveragePolicy(models.TextChoices):
        REFUSE = "refuse", "Refuse sends beyond the monthly allowance"
        USE_CREDITS = "use_credits", "Use credits beyond the monthly allowance"

    name = models.CharField(max_length=200)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    sms_help_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="Answer to HELP/INFO; the organisation's name, a contact and opt-out "
        "instructions are added to it.",
    )
    overage_policy = models.CharField(
        max_length=20, choices=OveragePolicy.choices, default=OveragePolicy.REFUSE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [  # noqa: RUF012
            ("manage_text_messaging", "Manage Text Messaging"),
            ("recruitment_sms", "Recruitment - SMS"),
            ("view_credits", "View credits"),
            ("view_sms_activity_report", "View SMS activity report"),
            ("view_job_postings_page", "Page: Job postings"),
            ("view_candidate_pool_page", "Page: Candidate pool"),
            ("view_candidate_profile_page", "Page: Candidate profile"),
            ("view_contacts_page", "Page: Contacts"),
            ("edit_people", "Edit candidates and contacts"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in; belongs to one organisation (platform staff may have none)."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="users", null=True, blank=True
    )
    notify_on_reply = models.BooleanField(
        default=True, help_text="E-mail me when a candidate replies to a conversation I am on."
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "last_name", "first_name"]),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class Role(models.TextChoices):
    """Roles are Django groups; these are the ones every organisation starts with."""

    ADMINISTRATOR = "Administrator"
    RECRUITER = "Recruiter"
    HIRING_MANAGER = "Hiring manager"


PAGE_PERMISSIONS = [
    "view_job_postings_page",
    "view_candidate_pool_page",
    "view_candidate_profile_page",
    "view_contacts_page",
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ADMINISTRATOR: [
        "manage_text_messaging",
        "recruitment_sms",
        "view_credits",
        "view_sms_activity_report",
        "edit_people",
        *PAGE_PERMISSIONS,
    ],
    Role.RECRUITER: ["recruitment_sms", "edit_people", *PAGE_PERMISSIONS],
    Role.HIRING_MANAGER: list(PAGE_PERMISSIONS),
}


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token acting as its user; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to recognise a token.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @classmethod
    def issue(cls, user: User) -> tuple["ApiToken", str]:
        raw = "ht_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, key_hash=hash_token(raw), prefix=raw[:8])
        return token, raw
