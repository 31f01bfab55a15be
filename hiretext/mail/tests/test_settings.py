"""Outbound e-mail and inbound webhooks are configured by the environment (config/settings.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PRINT = (
    "import json, django; from django.conf import settings; django.setup();"
    "print(json.dumps({'mailers': settings.MAILERS, 'anymail': settings.ANYMAIL,"
    " 'reply': settings.HIRETEXT_REPLY_DOMAIN, 'from': settings.HIRETEXT_EMAIL_FROM}))"
)
CLEARED = [
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
    "MAILGUN_WEBHOOK_SIGNING_KEY",
    "ANYMAIL_WEBHOOK_SECRET",
    "HIRETEXT_SIMULATOR_ENABLED",
    "HIRETEXT_REPLY_DOMAIN",
    "HIRETEXT_EMAIL_FROM",
    "HIRETEXT_PRODUCTION",
]


def configured(**env):
    base = {k: v for k, v in os.environ.items() if k not in CLEARED}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings"
    result = subprocess.run(
        [sys.executable, "-c", PRINT],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("env", "backend"),
    [
        ({}, "hiretext.mail.backends.SimulatorMailboxBackend"),
        ({"HIRETEXT_SIMULATOR_ENABLED": "0"}, "django.core.mail.backends.console.EmailBackend"),
        # Never readable mailboxes in production, even with the simulator left on.
        (
            {"HIRETEXT_PRODUCTION": "1", "SECRET_KEY": "x" * 50},
            "django.core.mail.backends.console.EmailBackend",
        ),
    ],
)
def test_defaults_are_the_simulator_mailboxes_or_the_console(env, backend):
    got = configured(**env)
    assert got["mailers"]["default"]["BACKEND"] == backend
    assert got["anymail"] == {}  # no secrets: no provider webhook is served


def test_smtp_from_the_environment():
    got = configured(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT="587",
        EMAIL_HOST_USER="mailer",
        EMAIL_HOST_PASSWORD="s3cret",
        EMAIL_USE_TLS="1",
        EMAIL_TIMEOUT="12",
        MAILGUN_WEBHOOK_SIGNING_KEY="mg-key",
        ANYMAIL_WEBHOOK_SECRET="user:pass",
        HIRETEXT_REPLY_DOMAIN="reply.acme.example",
        HIRETEXT_EMAIL_FROM="jobs@acme.example",
    )
    assert got["mailers"]["default"] == {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": "smtp.example.com",
            "port": 587,
            "username": "mailer",
            "password": "s3cret",
            "use_tls": True,
            "timeout": 12,
        },
    }
    assert got["anymail"] == {
        "MAILGUN_WEBHOOK_SIGNING_KEY": "mg-key",
        "WEBHOOK_SECRET": "user:pass",
    }
    assert (got["reply"], got["from"]) == ("reply.acme.example", "jobs@acme.example")
