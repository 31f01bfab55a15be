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


# --- housekeeping ------------------------------------------------------------------------


@pytest.fixture
def old_and_new_events(org, recruiter):
    from datetime import timedelta

    from django.utils import timezone

    from hiretext.inbox.models import Event
    from hiretext.messaging.tests.conftest import make_number

    number = make_number(org, [recruiter])
    old = Event.objects.create(number=number, conversation_id=1, kind=Event.Kind.MESSAGE)
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    new = Event.objects.create(number=number, conversation_id=1, kind=Event.Kind.READ)
    return number, old, new


@pytest.mark.django_db
def test_a_round_charges_this_month_and_prunes_old_events(old_and_new_events):
    from hiretext.inbox.models import Event
    from hiretext.numbers.models import NumberCharge

    number, old, new = old_and_new_events
    assert worker.housekeep() == {"charges": 1, "events_pruned": 1}
    assert list(Event.objects.values_list("pk", flat=True)) == [new.pk]
    charge = NumberCharge.objects.get()
    assert (charge.number_id, charge.amount_cents) == (number.pk, number.monthly_price_cents)
    assert worker.housekeep() == {"charges": 0, "events_pruned": 0}  # idempotent


@pytest.mark.django_db
def test_a_failing_job_is_logged_and_the_other_still_runs(old_and_new_events, monkeypatch, caplog):
    from hiretext.numbers import services as number_services

    def broken(now=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(number_services, "charge_monthly", broken)
    monkeypatch.setattr(worker.connections, "close_all", lambda: None)  # the test's own
    assert worker.housekeep() == {"events_pruned": 1}
    assert "Housekeeping: charges failed" in caplog.text


def test_the_loop_runs_rounds_until_stopped(monkeypatch):
    import threading

    rounds = []
    stopping = threading.Event()

    def counted():
        rounds.append(1)
        if len(rounds) == 3:
            stopping.set()
        return {"charges": 0, "events_pruned": len(rounds)}

    monkeypatch.setattr(worker, "housekeep", counted)
    monkeypatch.setattr(worker.connections, "close_all", lambda: None)
    thread = threading.Thread(target=worker.housekeeping, args=(stopping, 0.05))
    thread.start()
    thread.join(5)
    assert not thread.is_alive() and len(rounds) == 3


@pytest.mark.parametrize(("setting", "expected"), [("", True), ("0", False), ("60", True)])
def test_every_process_runs_housekeeping_unless_turned_off(monkeypatch, setting, expected):
    names = []

    class NoThread:
        def __init__(self, target, args=(), name=""):
            names.append(name)

        def start(self):
            pass

        def is_alive(self):
            return False

    if setting:
        monkeypatch.setenv("HIRETEXT_HOUSEKEEPING_SECONDS", setting)
    else:
        monkeypatch.delenv("HIRETEXT_HOUSEKEEPING_SECONDS", raising=False)
    monkeypatch.setattr(worker.threading, "Thread", NoThread)
    monkeypatch.setattr(worker.signal, "signal", lambda *a: None)
    monkeypatch.setattr(worker.connection, "close", lambda: None)
    worker.Command().run_loops(2, 0.1, ["default"])
    assert ("housekeeping" in names) is expected and "notifier" in names
