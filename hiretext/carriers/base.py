"""The carrier interface: everything hiretext asks of an SMS provider, and what it hears back.

Nothing carrier-specific leaves a carrier package: adapters turn vendor payloads into the
frozen events below and vendor error codes into `DeliveryError`s with our codes.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse


class CarrierError(Exception):
    """A carrier call failed. `transient` failures are retried with back-off."""

    def __init__(
        self, message: str, *, code: str = "", transient: bool = False, opt_out: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code  # the vendor's error code, e.g. "21610"
        self.transient = transient
        self.opt_out = opt_out  # the recipient has unsubscribed at the carrier (21610)


class InvalidSignature(Exception):  # noqa: N818 - reads as a verdict
    """The webhook was not signed by the carrier: answer 403, store nothing."""


class MalformedWebhook(Exception):  # noqa: N818
    """Signed but unparseable: answer 400, store nothing."""


@dataclass(frozen=True)
class AvailableNumber:
    e164: str
    locality: str = ""


@dataclass(frozen=True)
class BoughtNumber:
    e164: str
    carrier_id: str  # the carrier's id of the number (Twilio: PN… sid)


@dataclass(frozen=True)
class OutboundSms:
    from_e164: str
    to_e164: str
    body: str
    message_id: int  # our Message.id, for the status callback URL / reference
    status_callback_url: str = ""
    media_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendReceipt:
    external_id: str  # carrier message id (Twilio: SM… sid)
    status: str  # one of messaging's Message.Status values, usually "sent" or "sending"


@dataclass(frozen=True)
class InboundSms:
    external_id: str
    from_e164: str
    to_e164: str
    body: str
    occurred_at: datetime
    media_urls: tuple[str, ...] = ()
    account_ref: str = ""  # Twilio AccountSid: finds the organisation
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class StatusUpdate:
    external_id: str
    status: str  # Message.Status value: sending, sent, delivered, undelivered, failed
    occurred_at: datetime
    error_code: str = ""
    error_message: str = ""
    opt_out: bool = False  # error 21610: the recipient unsubscribed
    account_ref: str = ""
    # Our Message.id as the carrier echoes it (`OutboundSms.message_id`): finds the message
    # when the callback arrives before the send's receipt recorded the carrier's id.
    reference: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


MAX_REFERENCE = 19  # digits of our largest message id (a 64-bit integer)


def is_reference(value: str) -> bool:
    """A well-formed echo of our message id: ASCII digits only, bounded."""
    return 0 < len(value) <= MAX_REFERENCE and value.isascii() and value.isdigit()


class Carrier(ABC):
    """One SMS provider. Instances are configured for one organisation (or the platform)."""

    slug: ClassVar[str]  # "simulator", "twilio": also the webhook URL segment
    label: ClassVar[str]

    @abstractmethod
    def search_numbers(self, area_code: str, limit: int = 20) -> list[AvailableNumber]: ...

    @abstractmethod
    def buy_number(self, e164: str) -> BoughtNumber:
        """Buy exactly this number; raise CarrierError(code="number_unavailable") if taken."""

    @abstractmethod
    def release_number(self, e164: str, carrier_id: str) -> None: ...

    @abstractmethod
    def send(self, sms: OutboundSms) -> SendReceipt: ...

    @abstractmethod
    def verify(self, request: HttpRequest) -> None:
        """Raise InvalidSignature unless the request was signed by this carrier."""

    @abstractmethod
    def parse_inbound(self, request: HttpRequest) -> list[InboundSms]: ...

    @abstractmethod
    def parse_status(self, request: HttpRequest) -> list[StatusUpdate]: ...

    def webhook_response(self, kind: str) -> HttpResponse | None:
        """What to answer once a webhook ("inbound" or "status") was handled.

        None: the webhook view's default. Twilio, for one, expects TwiML to inbound messages.
        """
        return None
