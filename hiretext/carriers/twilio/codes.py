"""Twilio's message statuses and error codes, mapped to ours in one table.

Statuses become messaging's `Message.Status` values; error codes become readable reasons
with the retry and opt-out verdicts the send pipeline acts on (courier's TwiML handler
also turns 21610 into an opt-out).
"""

from dataclasses import dataclass

# Twilio MessageStatus -> our status. None: not a delivery status of an outbound message.
STATUSES: dict[str, str | None] = {
    "accepted": "sending",  # taken by a Messaging Service, sender not yet chosen
    "scheduled": "queued",
    "queued": "sending",  # in Twilio's queue: it left our hands
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "partially_delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
    "receiving": None,  # inbound messages: the inbound webhook carries them
    "received": None,
}


@dataclass(frozen=True)
class ErrorInfo:
    reason: str
    transient: bool = False  # retry later with back-off
    opt_out: bool = False  # the recipient unsubscribed at the carrier
    code: str = ""  # our stable code when one exists (e.g. number_unavailable)


ERRORS: dict[str, ErrorInfo] = {
    "20003": ErrorInfo("Twilio rejected the account SID or its credentials."),
    "20404": ErrorInfo("Twilio does not know this number or message."),
    "20429": ErrorInfo("Twilio is rate-limiting requests; trying again shortly.", transient=True),
    "21211": ErrorInfo("The recipient's phone number is not valid."),
    "21408": ErrorInfo("The Twilio account may not text this region (geographic permissions)."),
    "21421": ErrorInfo("That phone number cannot be bought.", code="number_unavailable"),
    "21422": ErrorInfo("That phone number is no longer available.", code="number_unavailable"),
    "21452": ErrorInfo("Twilio has no numbers for that area code right now."),
    "21606": ErrorInfo("This number cannot send texts from the Twilio account."),
    "21608": ErrorInfo("A Twilio trial account can text verified numbers only."),
    "21610": ErrorInfo(
        "The recipient has unsubscribed from this number (replied STOP).", opt_out=True
    ),
    "21611": ErrorInfo("The number has too many messages queued; trying again.", transient=True),
    "21612": ErrorInfo("Twilio cannot route a text from this number to the recipient."),
    "21614": ErrorInfo("The recipient's number is not a mobile number."),
    "21617": ErrorInfo("The message is too long (over 1,600 characters)."),
    "30001": ErrorInfo("Twilio's queue overflowed; the message was not sent.", transient=True),
    "30002": ErrorInfo("The Twilio account is suspended."),
    "30003": ErrorInfo("Unreachable handset: the phone is off or out of coverage."),
    "30004": ErrorInfo("Message blocked by the recipient or their carrier."),
    "30005": ErrorInfo("Unknown handset: the number does not exist or is no longer in service."),
    "30006": ErrorInfo("Landline or unreachable carrier: the number cannot receive texts."),
    "30007": ErrorInfo("Filtered by the carrier as spam or unregistered traffic."),
    "30008": ErrorInfo("The carrier reported an unknown delivery error."),
    "30034": ErrorInfo("The sending number is not registered for US A2P 10DLC texting."),
}


def status_for(twilio_status: str) -> str | None:
    """Our status for a Twilio status; None for inbound or unknown statuses (ignored)."""
    return STATUSES.get(twilio_status.strip().lower())


def error_info(code: str | int | None) -> ErrorInfo | None:
    return ERRORS.get(str(code)) if code not in (None, "") else None


def reason_for(code: str | int | None, fallback: str = "") -> str:
    """A sentence a recruiter can read for a Twilio error code."""
    info = error_info(code)
    if info is not None:
        return info.reason
    if code not in (None, ""):
        detail = fallback.strip().rstrip(".")
        return f"Twilio error {code}{': ' + detail if detail else ''}."
    return fallback
