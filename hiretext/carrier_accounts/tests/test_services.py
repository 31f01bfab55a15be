"""Carrier settings: validation, secrets encrypted and write-only, switching rules."""

import logging

import pytest

from hiretext.carrier_accounts import queries
from hiretext.carrier_accounts.models import CarrierAccount
from hiretext.carrier_accounts.services import CarrierSettings, check_connection, configure_carrier
from hiretext.carriers.base import OutboundSms
from hiretext.carriers.registry import carrier_for_org
from hiretext.carriers.simulator.carrier import SimulatorCarrier
from hiretext.carriers.twilio.carrier import TwilioCarrier
from hiretext.lib.errors import Conflict, PermissionDenied, ValidationFailed

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "t0kent0kent0kent0kent0kent0ken12"
KEY_SID = "SK" + "fedcba9876543210" * 2
KEY_SECRET = "S3cretS3cretS3cretS3cretS3cret12"
SERVICE = "MG" + "00112233445566778899aabbccddeeff"


def twilio(**kw):
    return CarrierSettings(**{"carrier": "twilio", "account_sid": SID, "auth_token": TOKEN, **kw})


def test_no_settings_means_the_simulator(org):
    assert queries.carrier_account(org) is None
    assert isinstance(carrier_for_org(org), SimulatorCarrier)


def test_twilio_settings_are_stored_with_secrets_encrypted(org, admin):
    account = configure_carrier(
        org,
        admin,
        twilio(api_key_sid=KEY_SID, api_key_secret=KEY_SECRET, messaging_service_sid=SERVICE),
    )
    row = CarrierAccount.objects.get(pk=account.pk)
    assert (row.carrier, row.account_sid, row.api_key_sid, row.messaging_service_sid) == (
        "twilio",
        SID,
        KEY_SID,
        SERVICE,
    )
    assert TOKEN not in row.auth_token_encrypted and row.auth_token_encrypted
    assert KEY_SECRET not in row.api_key_secret_encrypted and row.api_key_secret_encrypted
    creds = queries.credentials_of(row)
    assert (creds.auth_token, creds.api_key_secret) == (TOKEN, KEY_SECRET)
    carrier = carrier_for_org(org)
    assert isinstance(carrier, TwilioCarrier) and carrier.credentials == creds


def test_sids_are_normalised(org, admin):
    account = configure_carrier(
        org, admin, twilio(account_sid="  ac" + "0123456789ABCDEF" * 2 + " ")
    )
    assert account.account_sid == SID


def test_an_empty_secret_keeps_the_stored_one(org, admin):
    configure_carrier(org, admin, twilio(api_key_sid=KEY_SID, api_key_secret=KEY_SECRET))
    account = configure_carrier(org, admin, twilio(auth_token="", api_key_sid=KEY_SID))
    creds = queries.credentials_of(account)
    assert (creds.auth_token, creds.api_key_secret) == (TOKEN, KEY_SECRET)


def test_clearing_the_api_key_drops_its_secret(org, admin):
    configure_carrier(org, admin, twilio(api_key_sid=KEY_SID, api_key_secret=KEY_SECRET))
    account = configure_carrier(org, admin, twilio(api_key_sid=""))
    assert account.api_key_sid == "" and account.api_key_secret_encrypted == ""


def test_a_new_api_key_needs_its_secret(org, admin):
    configure_carrier(org, admin, twilio(api_key_sid=KEY_SID, api_key_secret=KEY_SECRET))
    with pytest.raises(ValidationFailed) as caught:
        configure_carrier(org, admin, twilio(api_key_sid="SK" + "1" * 32))
    assert "api_key_secret" in caught.value.errors


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"account_sid": ""}, "account_sid"),
        ({"account_sid": "AC123"}, "account_sid"),
        ({"account_sid": "SK" + "0" * 32}, "account_sid"),
        ({"account_sid": "AC" + "g" * 32}, "account_sid"),
        ({"auth_token": ""}, "auth_token"),
        ({"auth_token": "short"}, "auth_token"),
        ({"auth_token": "x" * 31 + "!"}, "auth_token"),
        ({"auth_token": "<script>alert(1)</script>" + "a" * 7}, "auth_token"),
        ({"api_key_sid": "AC" + "0" * 32, "api_key_secret": KEY_SECRET}, "api_key_sid"),
        ({"api_key_sid": KEY_SID}, "api_key_secret"),
        ({"api_key_secret": KEY_SECRET}, "api_key_sid"),
        ({"api_key_sid": KEY_SID, "api_key_secret": "x"}, "api_key_secret"),
        ({"messaging_service_sid": "MG1"}, "messaging_service_sid"),
    ],
)
def test_wrong_settings_are_refused_with_the_field_named(org, admin, fields, field):
    with pytest.raises(ValidationFailed) as caught:
        configure_carrier(org, admin, twilio(**fields))
    assert field in caught.value.errors
    assert caught.value.message == caught.value.errors[next(iter(caught.value.errors))][0]
    assert not CarrierAccount.objects.filter(organization=org, carrier="twilio").exists()


def test_an_unknown_carrier_is_refused(org, admin):
    with pytest.raises(ValidationFailed):
        configure_carrier(org, admin, CarrierSettings(carrier="carrier-pigeon"))
    assert not CarrierAccount.objects.exists()


def test_a_failed_change_leaves_the_stored_settings_alone(org, admin):
    configure_carrier(org, admin, twilio(messaging_service_sid=SERVICE))
    with pytest.raises(ValidationFailed):
        configure_carrier(org, admin, twilio(account_sid="AC" + "1" * 32, auth_token="bad"))
    row = CarrierAccount.objects.get(organization=org)
    assert (row.account_sid, row.messaging_service_sid) == (SID, SERVICE)
    assert queries.credentials_of(row).auth_token == TOKEN


def test_only_managers_of_the_org_may_change_it(org, recruiter, other_admin):
    for actor in (recruiter, other_admin):
        with pytest.raises(PermissionDenied):
            configure_carrier(org, actor, twilio())
    assert not CarrierAccount.objects.exists()


def test_back_to_the_simulator_keeps_the_twilio_settings_unused(org, admin):
    configure_carrier(org, admin, twilio())
    account = configure_carrier(org, admin, CarrierSettings(carrier="simulator"))
    assert account.carrier == "simulator" and account.account_sid == SID
    assert isinstance(carrier_for_org(org), SimulatorCarrier)
    assert queries.twilio_auth_tokens(SID) == []  # webhooks for it are refused now


def test_switching_with_active_numbers_is_refused(org, admin):
    from hiretext.numbers import services as numbers

    seat = numbers.ensure_seats(org, 1)[0]
    numbers.buy_number(admin, seat, area_code="415", terms_accepted=True)
    with pytest.raises(Conflict) as caught:
        configure_carrier(org, admin, twilio())
    assert caught.value.code == "carrier_has_numbers"
    assert "1 active number " in caught.value.message
    assert not CarrierAccount.objects.filter(carrier="twilio").exists()


def test_rotating_the_token_with_active_numbers_is_fine(org, admin, twilio_settings):
    from hiretext.numbers import services as numbers

    configure_carrier(org, admin, twilio())
    seat = numbers.ensure_seats(org, 1)[0]
    numbers.buy_number(admin, seat, area_code="808", terms_accepted=True)
    configure_carrier(org, admin, twilio(auth_token="n3wT0kenn3wT0kenn3wT0kenn3wT0ken"))
    with pytest.raises(Conflict):
        configure_carrier(org, admin, twilio(account_sid="AC" + "1" * 32))


def test_secrets_never_reach_the_logs(org, admin, caplog, twilio_settings):
    caplog.set_level(logging.DEBUG)
    configure_carrier(org, admin, twilio(api_key_sid=KEY_SID, api_key_secret=KEY_SECRET))
    check_connection(org, admin)
    carrier_for_org(org).send(OutboundSms("+14155550100", "+14155550142", "hi", 1))
    assert caplog.records  # something was logged
    assert TOKEN not in caplog.text and KEY_SECRET not in caplog.text


def test_check_connection_records_success(org, admin, twilio_settings):
    configure_carrier(org, admin, twilio())
    result = check_connection(org, admin)
    assert result.ok and "Connected to the Twilio account" in result.message
    row = CarrierAccount.objects.get(organization=org)
    assert row.check_ok is True and row.checked_at is not None
    assert twilio_settings.called("GET", f"/Accounts/{SID}.json")


def test_check_connection_warns_without_a_public_url(org, admin, twilio_settings, settings):
    configure_carrier(org, admin, twilio())
    settings.HIRETEXT_PUBLIC_URL = ""
    result = check_connection(org, admin)
    assert result.ok and "HIRETEXT_PUBLIC_URL is not set" in result.message


def test_check_connection_reports_an_unreachable_twilio(org, admin, settings):
    import socket

    configure_carrier(org, admin, twilio())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.HIRETEXT_TWILIO_API_BASE = f"http://127.0.0.1:{port}"
    result = check_connection(org, admin)
    assert not result.ok
    assert result.message == "Twilio connection failed: Could not reach Twilio (ConnectionError)."
    assert CarrierAccount.objects.get(organization=org).check_ok is False


def test_changing_credentials_forgets_the_last_check(org, admin, twilio_settings):
    configure_carrier(org, admin, twilio())
    check_connection(org, admin)
    account = configure_carrier(org, admin, twilio(auth_token="n3wT0kenn3wT0kenn3wT0kenn3wT0ken"))
    assert account.checked_at is None and account.check_ok is None


def test_the_simulator_needs_no_check(org, admin):
    assert check_connection(org, admin).ok


def test_check_needs_the_permission(org, recruiter):
    with pytest.raises(PermissionDenied):
        check_connection(org, recruiter)


def test_undecryptable_secrets_say_what_to_do(org, admin, settings):
    from cryptography.fernet import Fernet

    from hiretext.carriers.base import CarrierError

    configure_carrier(org, admin, twilio())
    settings.HIRETEXT_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(CarrierError, match="enter the auth token again"):
        carrier_for_org(org)
    assert "enter the auth token again" in check_connection(org, admin).message
