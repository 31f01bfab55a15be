"""Phone numbers: parse anything a person types into E.164, or refuse clearly."""

import re
from functools import lru_cache

import phonenumbers

from hiretext.lib.errors import DomainError

DEFAULT_REGION = "US"
NOT_TEXTABLE = {
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.UAN,
    phonenumbers.PhoneNumberType.VOICEMAIL,
    phonenumbers.PhoneNumberType.PAGER,
}


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return the E.164 form of `raw`, or raise `invalid_phone_number`."""
    text = (raw or "").strip()
    if len(text) > 40:
        raise DomainError("invalid_phone_number", "That phone number is too long.")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise DomainError("invalid_phone_number", f"“{text[:40]}” is not a phone number.") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise DomainError("invalid_phone_number", f"“{text[:40]}” is not a valid phone number.")
    if parsed.extension:
        # A text cannot reach an extension; dropping it silently would store another number.
        raise DomainError(
            "invalid_phone_number", f"“{text[:40]}” has an extension; a mobile number has none."
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_mobile_capable(e164: str) -> bool:
    """True unless the number is known to be a landline (NANP numbers are ambiguous: allowed)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(parsed)
    return kind not in NOT_TEXTABLE


# A North American number as E.164 (area code and exchange each start with 2–9; ASCII
# digits only: `\d` would take other scripts' digits, which the library reads as digits).
_NANP = re.compile(r"\+1([2-9][0-9]{2})([2-9][0-9]{2})([0-9]{4})")


@lru_cache(maxsize=8192)
def format_phone(e164: str) -> str:
    """Human form: +1 415 555 0142 style (international, spaced); cached (a pure function).

    A North American number is spaced without parsing it: an inbound text's timeline line
    names its sender, and phonenumbers' parsing and formatting cost a webhook from a new
    sender about a twentieth of its time. The text is the library's, as a test checks.
    """
    nanp = _NANP.fullmatch(e164)
    if nanp is not None:
        return "+1 {} {} {}".format(*nanp.groups())
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL).replace(
        "-", " "
    )
