"""`format_phone` writes North American numbers itself: the same text as phonenumbers."""

import random

import phonenumbers
import pytest

from hiretext.lib.phones import format_phone


def by_the_library(e164: str) -> str:
    parsed = phonenumbers.parse(e164, None)
    international = phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, international).replace("-", " ")


def test_north_american_numbers_read_as_the_library_writes_them():
    rng = random.Random(7)
    special = [211, 311, 411, 555, 611, 911, 950, 976]
    for area in range(200, 1000):
        for exchange in (rng.randrange(200, 1000), rng.choice(special)):
            e164 = f"+1{area}{exchange}{rng.randrange(10_000):04d}"
            assert format_phone(e164) == by_the_library(e164), e164


@pytest.mark.parametrize(
    "e164",
    [
        "+12120551234",  # an exchange starting with 0: not the shortcut's shape
        "+11234567890",  # an area code starting with 1
        "+1415555014",  # a digit short
        "+141555501423",  # a digit long
        "+442079460958",
        "+33612345678",
        "+61412345678",
    ],
)
def test_other_numbers_are_the_librarys_own(e164):
    assert format_phone(e164) == by_the_library(e164)


def test_what_is_no_number_comes_back_as_it_was():
    assert format_phone("not a phone") == "not a phone"
    assert format_phone("+1415555014２") == by_the_library("+1415555014２")
