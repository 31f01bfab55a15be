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


def _handle_serve(monkeypatch, **options):
    from hiretext.accounts.management.commands import serve

    calls = []
    monkeypatch.setattr(serve.os, "execv", lambda exe, argv: calls.append(argv))
    serve.Command().handle(
        bind=options.pop("bind", "127.0.0.1:9999"), workers=3, no_collectstatic=True, **options
    )
    return calls


@pytest.mark.django_db
def test_serve_runs_granian_when_asked_on_postgresql(monkeypatch):
    from django.core.management.base import CommandError
    from django.db import connection

    monkeypatch.setenv("HIRETEXT_SERVER", "granian")
    monkeypatch.setenv("HIRETEXT_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("HIRETEXT_ACCESS_LOG", "")
    if connection.vendor == "sqlite":
        with pytest.raises(CommandError, match="PostgreSQL only"):
            _handle_serve(monkeypatch)
        return
    (argv,) = _handle_serve(monkeypatch, bind="[::]:8080")
    assert argv[1:3] == ["-m", "granian"]
    assert argv[-1] == "config.granian:application"
    flags = dict(zip(argv[3:-1:], argv[4:-1], strict=False))
    assert flags["--interface"] == "wsgi"
    assert (flags["--host"], flags["--port"], flags["--workers"]) == ("::", "8080", "3")
    assert flags["--blocking-threads"] == "1"  # one request at a time, one connection
    assert flags["--log-level"] == "warning"
    assert "--access-log" not in argv
    assert "--respawn-failed-workers" in argv
    with pytest.raises(CommandError, match="host:port"):
        _handle_serve(monkeypatch, bind="unix:/run/hiretext.sock")


@pytest.mark.django_db
def test_the_server_option_overrides_the_environment_and_refuses_unknown_servers(monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setenv("HIRETEXT_SERVER", "granian")
    (argv,) = _handle_serve(monkeypatch, server="gunicorn")
    assert argv[1:3] == ["-m", "gunicorn"]
    with pytest.raises(CommandError, match="one of gunicorn, granian, not 'uwsgi'"):
        _handle_serve(monkeypatch, server="uwsgi")


def test_the_granian_application_freezes_what_it_loaded():
    import gc
    import importlib

    assert gc.get_freeze_count() == 0
    try:
        module = importlib.import_module("config.granian")
        from config.wsgi import application

        assert module.application is application
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        sys.modules.pop("config.granian", None)


@pytest.mark.django_db(transaction=True)
def test_granian_serves_the_app_on_postgresql(tmp_path):
    """The real server: pages, the lean stack of webhooks (a bad signature is refused)."""
    import http.client
    import socket
    import time

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("granian serves PostgreSQL only")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HIRETEXT_", "SECRET_KEY"))}
    base.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env = {
        **base,
        **PRODUCTION_ENV,
        "ALLOWED_HOSTS": "127.0.0.1",
        "HIRETEXT_SSL_REDIRECT": "0",
        "HIRETEXT_VAR_DIR": str(tmp_path),
        "DATABASE_URL": url,
        "HIRETEXT_SERVER": "granian",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "hiretext", "serve", "--no-collectstatic", "--workers", "1"]
        + ["--bind", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def request(method, path, body=b"", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request(method, path, body, headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = request("GET", "/healthz")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "granian did not answer in 60 s"
                time.sleep(0.1)
        assert status == 200
        status, headers, _ = request("GET", "/")
        assert status == 302 and headers["X-Frame-Options"] == "DENY"
        status, _, _ = request(
            "POST",
            "/webhooks/simulator/inbound",
            b'{"message_id": "m1", "from": "+12025550100", "to": "+12025550101", "body": "hi"}',
            {"Content-Type": "application/json", "X-Simulator-Signature": "0" * 64},
        )
        assert status == 403
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
