"""The Carrier page's form: sizes and shapes only; the service decides what is valid."""

from django import forms

from hiretext.carrier_accounts.models import CarrierAccount

SECRET_ATTRS = {"autocomplete": "off", "spellcheck": "false", "maxlength": "100"}
SID_ATTRS = {"autocomplete": "off", "spellcheck": "false", "maxlength": "40"}


class CarrierForm(forms.Form):
    carrier = forms.ChoiceField(
        choices=CarrierAccount.Carrier.choices, widget=forms.RadioSelect, label="Carrier"
    )
    account_sid = forms.CharField(
        required=False, max_length=40, label="Account SID", widget=forms.TextInput(SID_ATTRS)
    )
    auth_token = forms.CharField(
        required=False,
        max_length=100,
        label="Auth token",
        strip=True,
        widget=forms.PasswordInput(SECRET_ATTRS, render_value=False),
    )
    api_key_sid = forms.CharField(
        required=False, max_length=40, label="API key SID", widget=forms.TextInput(SID_ATTRS)
    )
    api_key_secret = forms.CharField(
        required=False,
        max_length=100,
        label="API key secret",
        widget=forms.PasswordInput(SECRET_ATTRS, render_value=False),
    )
    messaging_service_sid = forms.CharField(
        required=False,
        max_length=40,
        label="Messaging service SID",
        widget=forms.TextInput(SID_ATTRS),
    )

    def initial_from(self, account: CarrierAccount | None) -> None:
        """Show what is stored, except secrets."""
        if account is not None:
            self.initial = {
                "carrier": account.carrier,
                "account_sid": account.account_sid,
                "api_key_sid": account.api_key_sid,
                "messaging_service_sid": account.messaging_service_sid,
            }
        else:
            self.initial = {"carrier": CarrierAccount.Carrier.SIMULATOR}
