"""Validation of people's fields, shared by pages and the API."""

from typing import Any, ClassVar

from django import forms

from hiretext.ats.models import Candidate, Company, Contact
from hiretext.lib.errors import DomainError
from hiretext.lib.phones import normalize_phone

PERSON_FIELDS = ["first_name", "last_name", "email", "mobile", "time_zone", "external_id"]


class PersonForm(forms.ModelForm):  # type: ignore[type-arg]
    """Normalises the mobile number to E.164; consent is changed through `set_consent` only."""

    # People type "+1 (415) 555-0142": longer than the stored E.164, so the input allows more.
    mobile = forms.CharField(
        max_length=40,
        required=False,
        help_text=Candidate._meta.get_field("mobile").help_text,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )

    def clean_mobile(self) -> str:
        raw = self.cleaned_data.get("mobile") or ""
        if not raw.strip():
            return ""
        try:
            return normalize_phone(raw)
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code="invalid_phone_number") from exc

    def clean_external_id(self) -> str | None:
        value = (self.cleaned_data.get("external_id") or "").strip()
        return value or None

    def clean_first_name(self) -> str:
        value = (self.cleaned_data.get("first_name") or "").strip()
        if not value:
            raise forms.ValidationError("First name is required.", code="required")
        return value


class CandidateForm(PersonForm):
    class Meta:
        model = Candidate
        fields: ClassVar[list[str]] = PERSON_FIELDS


class ContactForm(PersonForm):
    company_name = forms.CharField(max_length=200, required=False)

    class Meta:
        model = Contact
        fields: ClassVar[list[str]] = [*PERSON_FIELDS, "title"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.company_id and "company_name" not in self.data:
            self.initial["company_name"] = self.instance.company.name

    def save(self, commit: bool = True) -> Contact:
        contact: Contact = super().save(commit=False)
        name = (self.cleaned_data.get("company_name") or "").strip()
        if "company_name" in self.data:
            contact.company = (
                Company.objects.get_or_create(organization=contact.organization, name=name)[0]
                if name
                else None
            )
        if commit:
            contact.save()
        return contact


class ConsentForm(forms.Form):
    granted = forms.BooleanField(required=False)
    note = forms.CharField(max_length=500, required=False)
