"""Production serving: `check --deploy` is clean with the documented environment, the
calibration views exist only when asked for, and `hiretext serve` builds the right server."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[3]

PRODUCTION_ENV = {
    "HIRETEXT_PRODUCTION": "1",
    "SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-" + "z" * 20,
    "ALLOWED_HOSTS": "texts.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://texts.example.com",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "smtp.example.com",
}


def hiretext(*args, env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HIRETEXT_", "SECRET_KEY"))}
    base.pop("DATABASE_URL", None)
    # The browser tests set this for their own process; production never has it.
    base.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "-m", "hiretext", *args],
        env={**base, "HIRETEXT_VAR_DIR": str(env.pop("_var")), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production(tmp_path):
    result = hiretext(
        "check", "--deploy", "--fail-level", "WARNING", env={"_var": tmp_path, **PRODUCTION_ENV}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_a_development_setup(tmp_path):
    env = {**PRODUCTION_ENV, "HIRETEXT_SSL_REDIRECT": "0", "HIRETEXT_HSTS_SECONDS": "0"}
    result = hiretext("check", "--deploy", "--fail-level", "WARNING", env={"_var": tmp_path, **env})
    assert result.returncode != 0
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT off
    assert "security.W004" in result.stderr  # no HSTS


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = hiretext("check", env={"_var": tmp_path, **env})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_calibration_views_are_not_mounted_by_default():
    with pytest.raises(Resolver404):
        resolve("/bench/bare")


def test_serve_runs_gunicorn_with_the_project_config(monkeypatch):
    from hiretext.accounts.management.commands import serve

    calls = []
    monkeypatch.setattr(serve.os, "execv", lambda exe, argv: calls.append(argv))
    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    serve.Command().handle(bind="127.0.0.1:9999", workers=0, no_collectstatic=True)
    (argv,) = calls
    assert argv[1:4] == ["-m", "gunicorn", "--config"]
    assert argv[4] == "python:config.gunicorn"
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:9999"
    assert argv[argv.index("--workers") + 1] == "7"


def test_the_master_freezes_what_it_loaded_before_forking_a_worker():
    import gc

    from config import gunicorn

    assert gc.get_freeze_count() == 0
    loaded = {"startup": [object() for _ in range(100)]}
    try:
        gunicorn.pre_fork(server=None, worker=None)
        assert gc.get_freeze_count() >= 100
        assert not any(loaded is tracked for tracked in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(loaded is tracked for tracked in gc.get_objects())


@pytest.mark.django_db
def test_default_worker_count_follows_the_database(monkeypatch):
    from django.db import connection

    from hiretext.accounts.management.commands.serve import default_workers

    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    expected = 5 if connection.vendor == "sqlite" else 9
    assert default_workers() == expected
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert default_workers() == 3
