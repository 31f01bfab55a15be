"""Twilio's API, mocked from its official OpenAPI description by Prism; no other way out.

Registered as a pytest plugin by the root conftest. It gives:

- a guard, for every test, that refuses network connections beyond this machine (and fails
  the test that tried, even if the code under test swallowed the error);
- `twilio_mock` (session): Prism serving ../shared/vendor-specs/twilio_api_v2010.json on a
  free loopback port. Prism validates each request against the spec and answers 422 to
  one that does not conform. Without Prism the tests fail when CI=true or
  HIRETEXT_REQUIRE_PRISM=1, and are skipped otherwise;
- `twilio_settings`: the app pointed at the mock, every Twilio call recorded, and the test
  failed if any request did not conform;
- `twilio_org`: the `org` fixture configured for a Twilio account, with `sign()` and `post()`
  helpers to deliver webhooks signed with the SDK's RequestValidator.
"""

import contextlib
import http.client
import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRISM = ROOT / "tests" / "mocks" / "node_modules" / ".bin" / "prism"
SPEC = Path(
    os.environ.get(
        "HIRETEXT_TWILIO_SPEC",
        ROOT.parent / "shared" / "vendor-specs" / "twilio_api_v2010.json",
    )
)
START_TIMEOUT = 120.0
PUBLIC_URL = "https://hiretext.example.com"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "t0kent0kent0kent0kent0kent0ken12"
PRISM_ERROR = "https://stoplight.io/prism/errors"


# --- no network beyond this machine ---------------------------------------------------------


class OutboundConnectionBlocked(OSError):
    """A test tried to reach the network beyond loopback."""


_blocked: list[str] = []
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(sock: socket.socket, address: object) -> bool:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return True
    host = address[0] if isinstance(address, tuple) and address else address
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_local(self, address):
        _blocked.append(repr(address))
        raise OutboundConnectionBlocked(f"Tests may not connect to {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_local(self, address):
        _blocked.append(repr(address))
        raise OutboundConnectionBlocked(f"Tests may not connect to {address!r}")
    return _real_connect_ex(self, address)


_real_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host, *args, **kwargs):
    """Resolving a remote name is the first step out: refuse it (no DNS lookups either)."""
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and name not in ("localhost", socket.gethostname()):
        try:
            ipaddress.ip_address(name.split("%")[0])
        except ValueError:
            _blocked.append(repr(name))
            raise OutboundConnectionBlocked(f"Tests may not look up {name!r}") from None
    return _real_getaddrinfo(host, *args, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture(autouse=True)
def _no_outbound_network():
    before = len(_blocked)
    yield
    if len(_blocked) > before:
        tried = ", ".join(_blocked[before:])
        pytest.fail(f"The test tried to reach the network beyond this machine: {tried}")


# --- Prism ----------------------------------------------------------------------------------


def _must_have_prism() -> bool:
    truthy = {"1", "true", "yes", "on"}
    return (
        os.environ.get("CI", "").strip().lower() in truthy
        or os.environ.get("HIRETEXT_REQUIRE_PRISM", "").strip().lower() in truthy
    )


def _unavailable(reason: str) -> None:
    if _must_have_prism():
        pytest.fail(f"The Twilio API mock is required here but unavailable: {reason}")
    pytest.skip(f"Twilio API mock unavailable ({reason}); run `make node-deps`")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    """Prism is up once it answers an unauthenticated account fetch (401 from the spec)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json")
        return conn.getresponse().status in (200, 401)
    except OSError:
        return False
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # the group we started: node and its children
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def twilio_mock():
    """Base URL of Prism mocking Twilio's 2010-04-01 API, started for this test session."""
    if not PRISM.exists():
        _unavailable(f"{PRISM.relative_to(ROOT)} is missing")
    if not SPEC.exists():
        _unavailable(f"the spec {SPEC} is missing")
    log = tempfile.NamedTemporaryFile(prefix="prism-", suffix=".log", delete=False)  # noqa: SIM115
    port = _free_port()
    # Never --errors: some of the spec's own examples fail its response schemas.
    proc = subprocess.Popen(
        [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while not _answers(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = Path(log.name).read_text(errors="replace")[-2000:]
                _unavailable(f"Prism did not start (exit {proc.poll()}):\n{tail}")
            time.sleep(0.25)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)
        log.close()
        Path(log.name).unlink(missing_ok=True)


# --- the app pointed at the mock ------------------------------------------------------------


@dataclass
class TwilioCall:
    method: str
    url: str
    status: int
    body: str
    data: dict = field(default_factory=dict)  # form fields sent
    params: dict = field(default_factory=dict)  # query parameters sent

    @property
    def nonconforming(self) -> bool:
        return self.status in (400, 401, 404, 405, 415, 422) and PRISM_ERROR in self.body


@dataclass
class TwilioMock:
    url: str
    calls: list[TwilioCall] = field(default_factory=list)

    def called(self, method: str, path_end: str) -> list[TwilioCall]:
        return [
            c for c in self.calls if c.method == method and c.url.split("?")[0].endswith(path_end)
        ]


def _fresh_sids(url: str, method: str, text: str) -> str:
    """Prism answers every create with the spec's example, so its SIDs repeat; Twilio's never
    do. Give each created message and number a fresh SID, as a stateful mock would."""
    if method != "POST":
        return text
    for suffix, prefix in (("/Messages.json", "SM"), ("/IncomingPhoneNumbers.json", "PN")):
        if url.split("?")[0].endswith(suffix):
            example = prefix + "a" * 32
            return text.replace(example, prefix + secrets.token_hex(16))
    return text


@pytest.fixture
def twilio_settings(twilio_mock, settings, monkeypatch):
    """Twilio calls go to Prism and are recorded; a request Prism rejects fails the test."""
    from twilio.http.response import Response

    from hiretext.carriers.twilio.http import BaseUrlHttpClient

    settings.HIRETEXT_TWILIO_API_BASE = twilio_mock
    settings.HIRETEXT_PUBLIC_URL = PUBLIC_URL
    mock = TwilioMock(url=twilio_mock)
    real_request = BaseUrlHttpClient.request

    def recording(self, method, url, *args, **kwargs):
        sent = dict(kwargs.get("data") or {})
        if any(isinstance(v, list) for v in sent.values()):
            # Twilio takes arrays as repeated keys (MediaUrl=a&MediaUrl=b), as the SDK sends
            # them; Prism 5 reads only Key[]= as an array (stoplightio/prism#2473), so the
            # same values travel in that spelling to be validated item by item.
            kwargs["data"] = {(f"{k}[]" if isinstance(v, list) else k): v for k, v in sent.items()}
        response = real_request(self, method, url, *args, **kwargs)
        text = _fresh_sids(url, method.upper(), response.text)
        mock.calls.append(
            TwilioCall(
                method.upper(),
                self.rewrite(url),
                response.status_code,
                text,
                sent,
                {k: str(v) for k, v in (kwargs.get("params") or {}).items()},
            )
        )
        return Response(response.status_code, text, response.headers)

    monkeypatch.setattr(BaseUrlHttpClient, "request", recording)
    yield mock
    rejected = [c for c in mock.calls if c.nonconforming]
    assert not rejected, "Requests the Twilio spec rejects:\n" + "\n".join(
        f"{c.method} {c.url} -> {c.status} {c.body[:600]}" for c in rejected
    )


@dataclass
class TwilioAccount:
    """An organisation's Twilio account in tests, and webhooks signed as Twilio signs them."""

    org: object
    mock: TwilioMock
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    public_url: str = PUBLIC_URL

    def sign(self, url: str, params: dict, token: str | None = None) -> str:
        from twilio.request_validator import RequestValidator

        return RequestValidator(token or self.auth_token).compute_signature(url, params)

    def post(self, client, kind: str, params: dict, *, signature: str | None = None, url=None):
        """POST a webhook to /webhooks/twilio/<kind>, signed for the public URL by default."""
        params = {"AccountSid": self.account_sid, **params}
        path = f"/webhooks/twilio/{kind}"
        if signature is None:
            signature = self.sign(url or self.public_url + path, params)
        sig = signature
        headers = {"X-Twilio-Signature": sig} if sig else {}
        return client.post(
            path,
            data=urlencode(params, doseq=True),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )


def configure_twilio(org, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, **extra):
    from hiretext.carrier_accounts.models import CarrierAccount
    from hiretext.lib.crypto import encrypt

    secret = extra.pop("api_key_secret", "")
    account, _ = CarrierAccount.objects.update_or_create(
        organization=org,
        defaults={
            "carrier": CarrierAccount.Carrier.TWILIO,
            "account_sid": account_sid,
            "auth_token_encrypted": encrypt(auth_token),
            "api_key_secret_encrypted": encrypt(secret),
            **extra,
        },
    )
    return account


@pytest.fixture
def twilio_org(org, twilio_settings):
    """`org`, texting through a Twilio account served by the mock."""
    configure_twilio(org)
    return TwilioAccount(org=org, mock=twilio_settings)
