"""The SDK's HTTP client, pointed at HIRETEXT_TWILIO_API_BASE when set (mocks, regions)."""

import logging
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

TWILIO_API = "https://api.twilio.com"
DEFAULT_TIMEOUT = 15.0

# The SDK logs every request at INFO; ours log failures instead.
sdk_log = logging.getLogger("hiretext.carriers.twilio.sdk")
if sdk_log.level == logging.NOTSET:
    sdk_log.setLevel(logging.WARNING)


class BaseUrlHttpClient(TwilioHttpClient):
    """Rewrites https://api.twilio.com to `api_base`; no retries here (the worker retries)."""

    def __init__(self, api_base: str = "", timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(timeout=timeout, logger=sdk_log)
        self.api_base = api_base.rstrip("/")

    def rewrite(self, url: str) -> str:
        if self.api_base and (url == TWILIO_API or url.startswith(TWILIO_API + "/")):
            return self.api_base + url[len(TWILIO_API) :]
        return url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, self.rewrite(url), *args, **kwargs)
