"""The simulator carrier: a real carrier's behaviour on this machine (DESIGN: The simulator).

Numbers are sold from `inventory` with their state in `SimulatorNumber`; the messaging side
(send, webhook verification and parsing) lives in `phones`, imported lazily.
"""

import random
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from hiretext.carriers.base import (
    AvailableNumber,
    BoughtNumber,
    Carrier,
    CarrierError,
    InboundSms,
    OutboundSms,
    SendReceipt,
    StatusUpdate,
)
from hiretext.carriers.simulator import inventory
from hiretext.carriers.simulator.models import SimulatorNumber

DEFAULT_QUARANTINE_DAYS = 30


def quarantine() -> timedelta:
    """How long a released number rests before it is sold again (like a carrier's aging)."""
    return timedelta(
        days=getattr(settings, "HIRETEXT_SIMULATOR_QUARANTINE_DAYS", DEFAULT_QUARANTINE_DAYS)
    )


def _unavailable(e164: str) -> CarrierError:
    return CarrierError(f"{e164} is not available.", code="number_unavailable")


class SimulatorCarrier(Carrier):
    slug = "simulator"
    label = "Simulator"

    def search_numbers(self, area_code: str, limit: int = 20) -> list[AvailableNumber]:
        """Up to `limit` available numbers of the area code, a random pick in ascending order."""
        candidates = inventory.numbers_in(area_code)
        if not candidates or limit <= 0:
            return []
        cutoff = timezone.now() - quarantine()
        taken = set(
            SimulatorNumber.objects.filter(area_code=area_code)
            .filter(Q(held=True) | Q(released_at__gt=cutoff))
            .values_list("e164", flat=True)
        )
        free = [e164 for e164 in candidates if e164 not in taken]
        picked = sorted(random.sample(free, min(limit, len(free))))  # noqa: S311 - not secret
        where = inventory.locality(candidates[0])
        return [AvailableNumber(e164=e164, locality=where) for e164 in picked]

    def buy_number(self, e164: str) -> BoughtNumber:
        """Sell `e164` to the caller; the unique e164 row means one buyer wins a race."""
        if not inventory.is_inventory_number(e164):
            raise _unavailable(e164)
        now = timezone.now()
        carrier_id = "SIMPN" + secrets.token_hex(16)
        try:
            with transaction.atomic():
                SimulatorNumber.objects.create(
                    e164=e164, area_code=e164[2:5], carrier_id=carrier_id, held=True, bought_at=now
                )
        except IntegrityError:
            # Sold before: buyable again only once released and out of quarantine.
            resold = SimulatorNumber.objects.filter(
                e164=e164, held=False, released_at__lte=now - quarantine()
            ).update(held=True, carrier_id=carrier_id, bought_at=now, released_at=None)
            if not resold:
                raise _unavailable(e164) from None
        return BoughtNumber(e164=e164, carrier_id=carrier_id)

    def release_number(self, e164: str, carrier_id: str) -> None:
        """Give the number back; it rests in quarantine. Releasing twice is harmless."""
        SimulatorNumber.objects.filter(e164=e164, carrier_id=carrier_id, held=True).update(
            held=False, released_at=timezone.now()
        )

    def send(self, sms: OutboundSms) -> SendReceipt:
        from hiretext.carriers.simulator import phones  # type: ignore[attr-defined, unused-ignore]

        return phones.send(sms)  # type: ignore[no-any-return, unused-ignore]

    def verify(self, request: HttpRequest) -> None:
        from hiretext.carriers.simulator import phones  # type: ignore[attr-defined, unused-ignore]

        phones.verify(request)

    def parse_inbound(self, request: HttpRequest) -> list[InboundSms]:
        from hiretext.carriers.simulator import phones  # type: ignore[attr-defined, unused-ignore]

        return phones.parse_inbound(request)  # type: ignore[no-any-return, unused-ignore]

    def parse_status(self, request: HttpRequest) -> list[StatusUpdate]:
        from hiretext.carriers.simulator import phones  # type: ignore[attr-defined, unused-ignore]

        return phones.parse_status(request)  # type: ignore[no-any-return, unused-ignore]
