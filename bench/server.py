"""Start `hiretext serve` (the production server) on loopback and stop it again.

In smoke mode (`env.shared` set) a server, once started, stays up for the rest of the run
and every benchmark that asks for the same one gets it: each start costs seconds (two
Django boots, gunicorn forking its workers) and the smoke run only checks that each
benchmark runs and its invariants hold. A full run starts a fresh server per benchmark.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import IO

from bench.env import ROOT, BenchEnv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, path: str = "/healthz", timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server on port {port} did not answer {path} in {timeout:.0f} s")


@dataclass
class Server:
    """A `hiretext` server process (its own process group) on a loopback port."""

    port: int
    proc: subprocess.Popen[bytes]
    log: IO[bytes]
    stop_timeout: float = 20.0
    ready: bool = False


def launch(
    env: BenchEnv,
    args: list[str],
    *,
    log_name: str,
    extra_env: dict[str, str] | None = None,
    stop_timeout: float = 20.0,
) -> Server:
    """`python -m hiretext <args> --bind 127.0.0.1:<port>`, not waiting for it to answer."""
    port = free_port()
    process_env = env.process_env()
    process_env.update(extra_env or {})
    log = open(env.var_dir / log_name.format(port=port), "ab")  # noqa: SIM115 - closed in stop()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hiretext", *args, "--bind", f"127.0.0.1:{port}"],
        env=process_env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Server(port, proc, log, stop_timeout)


def stop(servers: list[Server], *, kill: bool = False) -> None:
    """SIGTERM every server at once (graceful shutdowns overlap), then wait for each.

    `kill`: SIGKILL instead, for the end of a smoke run, where nothing is in flight any
    more (the checks waited for it) and a graceful stop costs seconds (gunicorn's master
    winds down its control socket and reaps its workers on a timer).
    """
    for server in servers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
    for server in servers:
        try:
            server.proc.wait(timeout=server.stop_timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait()
        server.log.close()


def stop_shared(env: BenchEnv) -> None:
    """The end of a smoke run: stop the servers its benchmarks shared."""
    if env.shared:
        stop(list(env.shared.values()), kill=True)
        env.shared.clear()


@contextlib.contextmanager
def running(env: BenchEnv, key: Hashable, start: Callable[[], Server]) -> Iterator[int]:
    """A started and answering server for the block; its port. Shared in smoke mode."""
    if env.shared is not None:
        server = env.shared.get(key)
        if server is None:
            server = env.shared[key] = start()
        if not server.ready:
            wait_ready(server.port)
            server.ready = True
        yield server.port
        return
    server = start()
    try:
        wait_ready(server.port)
        yield server.port
    finally:
        stop([server])


def _serve_key(workers: int, extra_args: tuple[str, ...], extra_env: dict[str, str]) -> Hashable:
    return ("serve", workers, extra_args, tuple(sorted(extra_env.items())))


def _start_serve(
    env: BenchEnv, workers: int, extra_args: tuple[str, ...], extra_env: dict[str, str]
) -> Server:
    if env.collected:  # hashed static files from this run's first start are still there
        extra_args = ("--no-collectstatic", *extra_args)
    env.collected = True
    args = ["serve", "--workers", str(workers), *extra_args]
    return launch(env, args, log_name="server-{port}.log", extra_env=extra_env)


def prestart(env: BenchEnv, workers: int, extra_env: dict[str, str] | None = None) -> None:
    """Smoke mode: boot the shared server now, while the first benchmark sets up."""
    from django.core.management import call_command

    assert env.shared is not None
    extra = dict(extra_env or {})
    key = _serve_key(workers, (), extra)
    if key not in env.shared:
        if not env.collected:
            # Here, where Django is up already: the server then skips a boot to collect.
            call_command("collectstatic", interactive=False, verbosity=0)
            env.collected = True
        env.shared[key] = _start_serve(env, workers, (), extra)


@contextlib.contextmanager
def serving(
    env: BenchEnv, workers: int, *extra_args: str, extra_env: dict[str, str] | None = None
) -> Iterator[int]:
    """`hiretext serve` with `workers` processes; yields its port, stops it on exit."""
    extra = dict(extra_env or {})
    key = _serve_key(workers, extra_args, extra)
    with running(env, key, lambda: _start_serve(env, workers, extra_args, extra)) as port:
        yield port
