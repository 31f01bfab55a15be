"""Page forms of the Text Messaging Numbers page; the rules themselves live in services."""

from django import forms

AREA_CODE_HELP = "Three digits, e.g. 415."


class AreaCodeForm(forms.Form):
    area_code = forms.RegexField(
        regex=r"^[0-9]{3}$",
        max_length=3,
        label="Area code",
        help_text=AREA_CODE_HELP,
        error_messages={
            "invalid": "Enter a 3-digit area code, e.g. 415.",
            "required": "Enter a 3-digit area code, e.g. 415.",
        },
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{3}"}
        ),
    )


class ConfirmForm(forms.Form):
    """The confirmation step: which number, and the ticked monthly terms."""

    mode = forms.ChoiceField(choices=[("auto", "auto"), ("choose", "choose")])
    area_code = forms.RegexField(regex=r"^[0-9]{3}$", max_length=3)
    e164 = forms.RegexField(regex=r"^\+1[0-9]{10}$", max_length=12)
    terms_accepted = forms.BooleanField(required=False)


MAX_PICKED = 10


def parse_user_ids(values: list[str]) -> list[int] | None:
    """The picked user ids, or None when the list is hostile (not ids, or too many)."""
    if len(values) > MAX_PICKED:
        return None
    ids = []
    for value in values:
        if not (value.isascii() and value.isdigit()) or len(value) > 18:
            return None
        ids.append(int(value))
    return ids
