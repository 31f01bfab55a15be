"""The database and environment every benchmark process shares (server, load, checks).

SQLite unless DATABASE_URL is set: a fresh file in var/bench/; on PostgreSQL a fresh
database `hiretext_bench` beside the one DATABASE_URL names (never that one itself).
Either is a copy of a migrated template, kept until the migrations change (`TEMPLATES`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SIMULATOR_SECRET = "bench-simulator-secret"
SECRET_KEY = "bench-secret-key-" + "x" * 50
BENCH_DB = "hiretext_bench"
# Migrated databases to copy, one per schema (`schema_key`): a fresh database in a blink
# instead of the migrations' seconds. On PostgreSQL a database `hiretext_bench_template_…`.
TEMPLATES = ROOT / "var" / "bench-templates"


def schema_key() -> str:
    """What a migrated database depends on: the migrations, the settings, the packages."""
    from importlib import metadata

    digest = hashlib.sha256()
    paths = [
        *sorted(ROOT.glob("hiretext/**/migrations/*.py")),
        ROOT / "config" / "settings.py",
    ]
    for path in paths:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    installed = sorted(
        f"{dist.metadata['Name']}=={dist.version}" for dist in metadata.distributions()
    )
    digest.update("\n".join(installed).encode())
    return digest.hexdigest()[:16]


@dataclass
class BenchEnv:
    kind: str  # "sqlite" | "postgresql"
    var_dir: Path
    database_url: str
    admin_url: str = ""  # PostgreSQL: where CREATE DATABASE runs
    extra: dict[str, str] = field(default_factory=dict)
    collected: bool = False  # static files collected by this run's first server start
    # Smoke mode: servers kept up and shared by the benchmarks (bench.server.running).
    shared: dict[Any, Any] | None = None

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
        """A new, empty, migrated database: a copy of the migrated template (`TEMPLATES`)."""
        if self.kind == "sqlite":
            shutil.rmtree(self.var_dir, ignore_errors=True)
            self.var_dir.mkdir(parents=True)
            shutil.copyfile(self._sqlite_template(), self.var_dir / "hiretext.sqlite3")
            return
        self.var_dir.mkdir(parents=True, exist_ok=True)
        import psycopg

        name = urlsplit(self.database_url).path.lstrip("/")
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            template = self._postgres_template(conn)
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def _sqlite_template(self) -> Path:
        path = TEMPLATES / f"{schema_key()}.sqlite3"
        if path.exists():
            return path
        building = TEMPLATES / f"building-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        db = building / "hiretext.sqlite3"
        self.manage("migrate", "--no-input", "-v", "0", database_url=f"sqlite:///{db}")
        with contextlib.closing(sqlite3.connect(db)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the one file
        for old in TEMPLATES.glob("*.sqlite3"):
            if old != path:  # an older schema's
                old.unlink(missing_ok=True)
        os.replace(db, path)
        shutil.rmtree(building, ignore_errors=True)
        return path

    def _postgres_template(self, conn: Any) -> str:
        import psycopg

        template = f"{BENCH_DB}_template_{schema_key()}"
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
        if found.fetchone():
            return template
        building = f"{template}_{os.getpid()}"
        conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{building}"')
        url = urlunsplit(urlsplit(self.database_url)._replace(path="/" + building))
        self.manage("migrate", "--no-input", "-v", "0", database_url=url)
        try:
            conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
        except psycopg.errors.DuplicateDatabase:  # another run built it meanwhile
            conn.execute(f'DROP DATABASE "{building}"')
        for (old,) in conn.execute("SELECT datname FROM pg_database").fetchall():
            if old != template and re.fullmatch(f"{BENCH_DB}_template_[0-9a-f]{{16}}", old):
                with contextlib.suppress(psycopg.Error):  # in use: left for a later run
                    conn.execute(f'DROP DATABASE IF EXISTS "{old}"')
        return template

    def manage(self, *args: str, database_url: str = "") -> None:
        env = self.process_env()
        if database_url:
            env["DATABASE_URL"] = database_url
        subprocess.run([sys.executable, "-m", "hiretext", *args], env=env, check=True, cwd=ROOT)

    def activate(self) -> None:
        """Point this process's Django at the bench database (before django.setup())."""
        os.environ.update(self.variables())
        import django

        django.setup()
