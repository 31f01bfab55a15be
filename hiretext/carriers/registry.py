"""Which carrier classes exist (setting HIRETEXT_CARRIERS) and which one an organisation uses."""

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from hiretext.accounts.models import Organization
from hiretext.carriers.base import Carrier

DEFAULT_CARRIERS = [
    "hiretext.carriers.simulator.carrier.SimulatorCarrier",
    "hiretext.carriers.twilio.carrier.TwilioCarrier",
]
DEFAULT_SLUG = "simulator"


@cache
def carrier_classes() -> dict[str, type[Carrier]]:
    """Load the configured classes once; two carriers may not share a slug (webhook URLs)."""
    classes: dict[str, type[Carrier]] = {}
    for path in getattr(settings, "HIRETEXT_CARRIERS", DEFAULT_CARRIERS):
        cls = import_string(path)
        if not (isinstance(cls, type) and issubclass(cls, Carrier)):
            raise ImproperlyConfigured(f"{path} is not a Carrier.")
        if cls.slug in classes:
            raise ImproperlyConfigured(f"Two carriers use the slug {cls.slug!r}.")
        classes[cls.slug] = cls
    return classes


def get_carrier(slug: str) -> Carrier:
    """The carrier with this slug; LookupError for an unknown one (a webhook answers 404)."""
    try:
        cls = carrier_classes()[slug]
    except KeyError:
        raise LookupError(f"No carrier {slug[:40]!r}.") from None
    return cls()


def carrier_for_org(org: Organization) -> Carrier:
    """The carrier an organisation buys and sends through: the simulator unless configured."""
    from hiretext.carrier_accounts.queries import carrier_slug  # lazy: that app uses carriers

    slug = carrier_slug(org) or getattr(settings, "HIRETEXT_DEFAULT_CARRIER", DEFAULT_SLUG)
    carrier = get_carrier(slug)
    for_org = getattr(carrier, "for_org", None)  # carriers holding per-organisation credentials
    return for_org(org) if for_org is not None else carrier


def carrier_for(slug: str, org: Organization) -> Carrier:
    """Carrier `slug` set up for `org`: releases a number through whoever sold it."""
    carrier = get_carrier(slug)
    for_org = getattr(carrier, "for_org", None)
    return for_org(org) if for_org is not None else carrier
