"""An organisation's Twilio credentials in clear, in memory only: never logged nor repr'd."""

import re
from dataclasses import dataclass, field

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
API_KEY_SID = re.compile(r"^SK[0-9a-fA-F]{32}$")
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
SECRET = re.compile(r"^[A-Za-z0-9]{32}$")  # auth tokens and API key secrets


@dataclass(frozen=True)
class TwilioCredentials:
    account_sid: str
    auth_token: str = field(repr=False)  # verifies webhooks; signs API calls without a key
    api_key_sid: str = ""
    api_key_secret: str = field(default="", repr=False)
    messaging_service_sid: str = ""
