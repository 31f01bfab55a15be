"""Tests may not reach the network beyond this machine: the guard refuses, and says so."""

import socket

import pytest

from tests.mocks import twilio_api


@pytest.fixture
def forgive_blocked():
    """These tests trip the guard on purpose; the per-test check must not fail them."""
    before = len(twilio_api._blocked)
    yield
    del twilio_api._blocked[before:]


def test_remote_names_and_addresses_are_refused(forgive_blocked):
    with pytest.raises(twilio_api.OutboundConnectionBlocked):
        socket.getaddrinfo("api.twilio.com", 443)
    with socket.socket() as sock, pytest.raises(twilio_api.OutboundConnectionBlocked):
        sock.connect(("203.0.113.7", 443))
    assert "'api.twilio.com'" in twilio_api._blocked and len(twilio_api._blocked) >= 2


def test_a_twilio_call_without_the_mock_is_caught_even_if_swallowed(forgive_blocked, settings):
    from hiretext.carriers.base import CarrierError, OutboundSms
    from hiretext.carriers.twilio.carrier import TwilioCarrier
    from hiretext.carriers.twilio.credentials import TwilioCredentials

    settings.HIRETEXT_TWILIO_API_BASE = ""
    settings.HIRETEXT_PUBLIC_URL = "https://hiretext.example.com"
    before = len(twilio_api._blocked)
    carrier = TwilioCarrier(TwilioCredentials(twilio_api.ACCOUNT_SID, twilio_api.AUTH_TOKEN))
    with pytest.raises(CarrierError):  # the adapter turns it into a transient error…
        carrier.send(OutboundSms("+14155550100", "+14155550142", "hi", 1))
    assert len(twilio_api._blocked) > before  # …but the guard recorded it: the test would fail


def test_loopback_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
    assert socket.getaddrinfo("localhost", 80)
