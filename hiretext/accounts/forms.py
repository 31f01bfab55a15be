"""The sign-in form: Django's, behind the sign-in throttle the API's token door shares."""

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from hiretext.accounts import throttle


class SignInForm(AuthenticationForm):
    def clean(self) -> dict[str, Any]:
        email = str(self.cleaned_data.get("username") or "")
        address = throttle.client_address(self.request)
        if email and self.cleaned_data.get("password"):
            try:
                throttle.attempt(email, address)
            except throttle.TooManyAttempts as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from exc
        cleaned = super().clean()
        throttle.succeeded(email, address)
        return cleaned
