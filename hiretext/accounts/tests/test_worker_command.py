"""`hiretext worker`: processes × task loops, loops sized for the database."""

import pytest

from hiretext.accounts.management.commands import worker


@pytest.mark.django_db
def test_default_loops_are_sixteen_on_every_database(monkeypatch):
    monkeypatch.delenv("HIRETEXT_WORKER_THREADS", raising=False)
    assert worker.default_threads() == 16  # the carrier call holds no lock, on SQLite too
    monkeypatch.setenv("HIRETEXT_WORKER_THREADS", "5")
    assert worker.default_threads() == 5


def test_one_process_runs_its_loops_in_place(monkeypatch):
    calls = []
    monkeypatch.setattr(worker.Command, "run_loops", lambda self, *a: calls.append(a))
    worker.Command().handle(processes=1, threads=3, interval=0.5, queue="default,mail")
    assert calls == [(3, 0.5, ["default", "mail"])]


def test_several_processes_each_get_the_loop_count(monkeypatch):
    started = []

    class FakeProcess:
        def __init__(self, cmd):
            started.append(cmd)

        def wait(self):
            return 0

        def poll(self):
            return 0

    monkeypatch.setattr(worker.subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(worker.signal, "signal", lambda *a: None)
    worker.Command().handle(processes=2, threads=4, interval=0.2, queue="*")
    assert len(started) == 2
    for cmd in started:
        assert cmd[cmd.index("--processes") + 1] == "1"
        assert cmd[cmd.index("--threads") + 1] == "4"
        assert cmd[cmd.index("--queue") + 1] == "*"


@pytest.mark.django_db(transaction=True)
def test_loops_stop_when_told(monkeypatch):
    """SIGTERM's handler tells every loop to finish; run_loops then returns."""
    import threading

    handlers = {}
    monkeypatch.setattr(worker.signal, "signal", lambda sig, fn: handlers.__setitem__(sig, fn))
    done = threading.Event()

    def run():
        worker.Command().run_loops(2, 0.05, ["default"])
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    for _ in range(100):
        if handlers:
            break
        threading.Event().wait(0.02)
    handlers[worker.signal.SIGTERM]()
    assert done.wait(10)
    thread.join()
