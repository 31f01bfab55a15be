"""The simulator's fictional numbers: NXX-555-0100…0199 for every North American area code.

555-0100 to 555-0199 are reserved for fiction in the North American Numbering Plan, so
nothing the simulator sells can ever reach a real phone.
"""

from functools import cache

import phonenumbers

FICTIONAL_LINES = range(100, 200)
NOT_LOCAL = {phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE}


@cache
def area_codes() -> frozenset[str]:
    """Geographic NANP area codes (US, Canada and the other NANP countries)."""
    codes = set()
    for code in range(200, 1000):
        parsed = phonenumbers.parse(f"+1{code}5550100")
        if phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) not in (
            NOT_LOCAL
        ):
            codes.add(str(code))
    return frozenset(codes)


def numbers_in(area_code: str) -> list[str]:
    """All 100 fictional numbers of an area code, in order; [] for an unknown area code."""
    if area_code not in area_codes():
        return []
    return [f"+1{area_code}5550{line:03d}" for line in FICTIONAL_LINES]


def is_inventory_number(e164: str) -> bool:
    return (
        len(e164) == 12
        and e164.startswith("+1")
        and e164[2:5] in area_codes()
        and e164[5:9] == "5550"
        and e164[9:].isdigit()
        and int(e164[9:]) in FICTIONAL_LINES
    )


def locality(e164: str) -> str:
    """Where the area code is, e.g. "San Francisco, CA" (may be a state or country).

    The geocoder is imported here, on the first number search: its data takes some 100 MB
    of memory, which every process that loads the simulator (every web and task worker,
    whatever carrier it uses) would otherwise hold.
    """
    from phonenumbers import geocoder

    return str(geocoder.description_for_number(phonenumbers.parse(e164), "en"))
