"""Start `hiretext serve` (the production server) on loopback and stop it again."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

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
        time.sleep(0.1)
    raise RuntimeError(f"the server on port {port} did not answer {path} in {timeout:.0f} s")


@contextlib.contextmanager
def serving(
    env: BenchEnv, workers: int, *extra_args: str, extra_env: dict[str, str] | None = None
) -> Iterator[int]:
    """`hiretext serve` with `workers` processes; yields its port, stops it on exit."""
    port = free_port()
    if env.collected:  # hashed static files from this run's first start are still there
        extra_args = ("--no-collectstatic", *extra_args)
    env.collected = True
    process_env = env.process_env()
    process_env.update(extra_env or {})
    log = open(env.var_dir / f"server-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hiretext",
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            *extra_args,
        ],
        env=process_env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_ready(port)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
