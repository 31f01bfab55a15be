"""The benchmarks' own arithmetic: a goal's request against the calibration's ceilings, and
the table of BENCHMARKS.md that reports it (the smoke run in CI never renders the table)."""

from typing import Any

import pytest

from bench import report
from bench.core import Context


def context(**ceilings: float) -> Context:
    calibration = {name: {"rps": rps} for name, rps in ceilings.items()}
    return Context(env=None, smoke=True, results={"calibration": calibration})  # type: ignore[arg-type]


def test_a_goal_is_restated_against_the_one_row_write():
    ctx = context(bare=4000.0, bare_machine=5000.0, insert_raw=2000.0)

    fields, lines = ctx.against_calibration(1400.0, "webhooks", 0.35)

    assert fields == {
        "ratio_to_calibration": 0.35,
        "ratio_to_bare_machine": 0.28,
        "ratio_to_one_write": 0.7,
        "goal_to_one_write": 0.7,  # 0.35 of 4,000 is 1,400 requests: 0.7 of 2,000
    }
    assert lines[-1] == (
        "against the calibration's one-row write (a raw-cursor INSERT, 2000 req/s): 0.700; "
        "the goal is 0.700 of it on this machine"
    )


def test_without_a_calibration_there_is_no_ratio_to_it():
    fields, lines = context().against_calibration(1400.0, "webhooks", 0.35)

    assert fields == {}
    assert lines == ["the calibration did not run in this invocation: no ratio to it"]


def results(**benchmarks: Any) -> dict[str, Any]:
    return {"benchmarks": benchmarks}


def row(table: list[str], what: str) -> list[str]:
    (found,) = [line for line in table if line.startswith(f"| {what} |")]
    return [cell.strip() for cell in found.strip("|").split("|")]


@pytest.mark.parametrize(
    ("what", "benchmarks"),
    [
        (
            "1 webhook / one-row write",
            {"webhook": {"ratio_to_one_write": 0.631, "goal_to_one_write": 0.783}},
        ),
        (
            "2 send API / one-row write",
            {"send": {"acceptance": {"ratio_to_one_write": 0.631, "goal_to_one_write": 0.783}}},
        ),
    ],
)
def test_the_table_shows_the_one_row_write_with_the_goal_in_its_terms(what, benchmarks):
    table = report.goals({"postgresql": results(**benchmarks)})

    assert row(table, what) == [what, "(reference)", "—", "0.631 (goal 0.783)"]


def test_a_run_from_before_the_one_row_write_leaves_its_cell_empty():
    data = {
        "sqlite": results(webhook={"ratio_to_bare": 0.36}),
        "postgresql": results(
            webhook={"ratio_to_bare": 0.29, "ratio_to_one_write": 0.6, "goal_to_one_write": 0.8}
        ),
    }

    table = report.goals(data)

    assert row(table, "1 webhook / one-row write")[2:] == ["—", "0.600 (goal 0.800)"]
    assert row(table, "1 webhook / bare view")[2:] == ["0.360", "0.290"]
