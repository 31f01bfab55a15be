"""The database and environment every benchmark process shares (server, load, checks).

SQLite unless DATABASE_URL is set: a fresh file in var/bench/; on PostgreSQL a fresh
database `hiretext_bench` beside the one DATABASE_URL names (never that one itself).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SIMULATOR_SECRET = "bench-simulator-secret"
SECRET_KEY = "bench-secret-key-" + "x" * 50
BENCH_DB = "hiretext_bench"


@dataclass
class BenchEnv:
    kind: str  # "sqlite" | "postgresql"
    var_dir: Path
    database_url: str
    admin_url: str = ""  # PostgreSQL: where CREATE DATABASE runs
    extra: dict[str, str] = field(default_factory=dict)
    collected: bool = False  # static files collected by this run's first server start

    @classmethod
    def from_environment(cls, smoke: bool) -> BenchEnv:
        var_dir = ROOT / "var" / ("bench-smoke" if smoke else "bench")
        given = os.environ.get("DATABASE_URL", "")
        if given.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(given)
            name = BENCH_DB + ("_smoke" if smoke else "")
            url = urlunsplit(parts._replace(path="/" + name))
            return cls("postgresql", var_dir, url, admin_url=given)
        return cls("sqlite", var_dir, "")

    def variables(self) -> dict[str, str]:
        """The production settings, plus what a loopback benchmark needs (no TLS, no logs)."""
        return {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": self.database_url or f"sqlite:///{self.var_dir / 'hiretext.sqlite3'}",
            "HIRETEXT_VAR_DIR": str(self.var_dir),
            "HIRETEXT_PRODUCTION": "1",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "HIRETEXT_SSL_REDIRECT": "0",  # loopback http; a proxy terminates TLS in production
            "HIRETEXT_SIMULATOR_SECRET": SIMULATOR_SECRET,
            "HIRETEXT_BENCH_ENDPOINTS": "1",
            "HIRETEXT_ACCESS_LOG": "",
            "HIRETEXT_LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PYTHONHASHSEED": "0",
            **self.extra,
        }

    def process_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(self.variables())
        return env

    def create(self) -> None:
        """A new, empty, migrated database."""
        if self.kind == "sqlite":
            shutil.rmtree(self.var_dir, ignore_errors=True)
            self.var_dir.mkdir(parents=True)
        else:
            self.var_dir.mkdir(parents=True, exist_ok=True)
            import psycopg

            name = urlsplit(self.database_url).path.lstrip("/")
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
        self.manage("migrate", "--no-input", "-v", "0")

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "hiretext", *args], env=self.process_env(), check=True, cwd=ROOT
        )

    def activate(self) -> None:
        """Point this process's Django at the bench database (before django.setup())."""
        os.environ.update(self.variables())
        import django

        django.setup()
