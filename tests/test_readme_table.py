"""The README's "What customers can say" table is true: every example quoted in it is read as
its row says (issue 11, "Done when"). The rows are found by the start of their second cell, so
an example added to a row is checked without touching this file; a row that is not found
fails, so a rewritten row is not silently skipped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.intents import Intent, Understanding
from tests.test_intents import read

README = Path(__file__).resolve().parents[1] / "README.md"
_QUOTED = re.compile(r'"([^"]+)"')
_CHATTER = frozenset({Intent.HELP, Intent.SMALLTALK, Intent.UNKNOWN})


def table() -> list[tuple[str, str]]:
    """(first cell, second cell) of each row of the table."""
    section = README.read_text(encoding="utf-8").split("## What customers can say", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
    cells = [line.strip("|").split(" | ", 1) for line in rows]
    return [(cell[0], cell[1]) for cell in cells if len(cell) == 2]


def row(second_cell_start: str) -> tuple[str, str]:
    found = [cells for cells in table() if cells[1].startswith(second_cell_start)]
    assert len(found) == 1, f"no single README row starts its answer with {second_cell_start!r}"
    return found[0]


def quoted(cell: str) -> list[str]:
    """The examples quoted in a cell, without bare digits (a numbered choice needs its menu)
    nor an ellipsis's cut sentence."""
    return [
        text for text in _QUOTED.findall(cell) if not text.isdigit() and not text.endswith("…")
    ]


def examples(second_cell_start: str, *, cell: int = 0) -> list[str]:
    return quoted(row(second_cell_start)[cell])


ROWS: list[tuple[str, Intent]] = [
    ("sends the secure pay link", Intent.PAY_NOW),
    ("records the promise", Intent.PAY_LATER),
    ("shows the schedule", Intent.SPLIT),
    ("what is left", Intent.STATUS),
    ("confirms if the payment is in", Intent.ALREADY_PAID),
    ("pauses reminders and hands over", Intent.DISPUTE),
    ("queues the conversation for a person", Intent.ASK_AGENT),
]


@pytest.mark.parametrize(
    ("text", "intent"),
    [(text, intent) for start, intent in ROWS for text in examples(start)],
)
def test_each_rows_examples_are_read_as_the_row_says(text: str, intent: Intent) -> None:
    assert read(text).intent is intent


def opt_out_cells() -> tuple[list[str], list[str]]:
    first, _ = row("opts out of marketing")
    out, back = first.split(' / "START"', 1)
    return quoted(out), ["START", *quoted(back)]


@pytest.mark.parametrize("text", opt_out_cells()[0])
def test_the_opt_out_examples_opt_out(text: str) -> None:
    assert read(text).intent is Intent.OPT_OUT


@pytest.mark.parametrize("text", opt_out_cells()[1])
def test_the_opt_in_examples_opt_in(text: str) -> None:
    assert read(text).intent is Intent.OPT_IN


@pytest.mark.parametrize("text", examples("opts out of marketing", cell=1))
def test_stop_words_the_row_says_are_not_opt_outs_are_not(text: str) -> None:
    assert read(text).intent is not Intent.OPT_OUT


@pytest.mark.parametrize("text", examples("records the promise", cell=1))
def test_a_date_in_a_message_about_something_else_is_small_talk(text: str) -> None:
    assert read(text).intent is Intent.SMALLTALK


@pytest.mark.parametrize("text", examples("answers the rest, then one line"))
def test_a_maybe_opt_out_asks_for_confirmation(text: str) -> None:
    reading = read(text)
    assert reading.intent is not Intent.OPT_OUT
    assert reading.maybe_opt_out


@pytest.mark.parametrize("text", examples("opts out first"))
def test_an_opt_out_with_more_opts_out_first(text: str) -> None:
    reading = read(text)
    assert reading.intent is Intent.OPT_OUT
    assert reading.then  # and what else was said is acted on after


@pytest.mark.parametrize("text", examples('asks "did you mean'))
def test_a_message_the_bot_is_unsure_of_is_asked_about(text: str) -> None:
    assert read(text).is_unsure


@pytest.mark.parametrize("text", examples("acts on the rest"))
def test_a_stop_taken_back_acts_on_the_rest_and_asks(text: str) -> None:
    reading: Understanding = read(text)
    assert reading.intent is not Intent.OPT_OUT
    assert reading.maybe_opt_out


@pytest.mark.parametrize("text", examples("help, a friendly word"))
def test_help_and_chatter_are_never_acted_on_as_money(text: str) -> None:
    assert read(text).intent in _CHATTER
