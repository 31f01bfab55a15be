"""Reply addresses: signed per conversation, robust to case, refusing forgeries."""

import pytest
from django.test import override_settings

from hiretext.mail import addresses

pytestmark = pytest.mark.usefixtures("providers")


def test_round_trip_and_shape():
    address = addresses.reply_address(42)
    local, domain = address.split("@")
    assert domain == "reply.hiretext.test"
    assert local.startswith("reply+42.") and len(local) == len("reply+42.") + 32
    assert addresses.conversation_from_address(address) == 42


def test_case_changes_by_mail_systems_do_not_break_it():
    address = addresses.reply_address(7)
    assert addresses.conversation_from_address(address.upper()) == 7
    assert addresses.conversation_from_address(f"  {address}  ") == 7


def test_other_addresses_are_not_ours():
    assert addresses.conversation_from_address("alex@example.com") is None
    assert addresses.conversation_from_address("reply+7.abc@elsewhere.example") is None
    assert addresses.conversation_from_address("jobs@reply.hiretext.test") is None
    assert addresses.conversation_from_address("not an address") is None


@pytest.mark.parametrize(
    "forged",
    [
        "reply+7.00000000000000000000000000000000@reply.hiretext.test",
        "reply+7@reply.hiretext.test",
        "reply+@reply.hiretext.test",
        "reply+x.y.z@reply.hiretext.test",
        "reply+-1.00@reply.hiretext.test",
    ],
)
def test_forgeries_are_refused(forged):
    with pytest.raises(addresses.ForgedAddress):
        addresses.conversation_from_address(forged)


def test_another_conversations_signature_does_not_fit():
    signature = addresses.reply_address(7).split("@")[0].split(".")[1]
    with pytest.raises(addresses.ForgedAddress):
        addresses.conversation_from_address(f"reply+8.{signature}@reply.hiretext.test")


def test_secret_key_rotation_keeps_old_addresses_working(settings):
    old = addresses.reply_address(9)
    rotated = {"SECRET_KEY": "a-new-secret-key-" * 3}
    with override_settings(**rotated, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        assert addresses.conversation_from_address(old) == 9
    with (
        override_settings(**rotated, SECRET_KEY_FALLBACKS=[]),
        pytest.raises(addresses.ForgedAddress),
    ):
        addresses.conversation_from_address(old)


def test_message_ids_and_formatted_names():
    assert addresses.message_ids("<a@b> junk <c@d>") == ["<a@b>", "<c@d>"]
    assert addresses.message_ids(None) == []
    assert addresses.new_message_id(5).endswith("@reply.hiretext.test>")
    assert addresses.formatted('Acme "Best"\r\nBcc: x', "jobs@acme.test") == (
        '"Acme \\"Best\\" Bcc: x" <jobs@acme.test>'
    )
