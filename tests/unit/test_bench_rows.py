"""bench/run.py's table: a figure is judged on its median over the rounds, a count of defects
on every run (one run with a message handled twice fails the row, whatever the others say)."""

from __future__ import annotations

from bench.run import make_rows


def test_a_figure_is_judged_on_its_median() -> None:
    twilio = make_rows()["twilio"]
    for ratio in (0.5, 0.95, 1.0):
        twilio.add(ratio)
    assert twilio.cells()[3] == "pass"


def test_one_run_with_a_defect_fails_the_defect_count() -> None:
    rows = make_rows()
    clean, one_bad = rows["scale_check"], make_rows()["scale_check"]
    for count in (0, 0, 0):
        clean.add(count)
    for count in (0, 1, 0):
        one_bad.add(count)
    assert (clean.cells()[3], one_bad.cells()[3]) == ("pass", "FAIL")
