"""Score `flows.intents.understand` on the labelled corpus, tuning and held-out parts apart.

Run ``python -m tests.intents.evaluate`` (or import `load_corpus` / `evaluate`). Two files:

- ``corpus.jsonl``: the **tuning** part, read and tuned against freely;
- ``heldout.jsonl``: the **held-out** part (a stratified quarter of the labelled corpus, chosen
  per intent by the SHA-256 of the text, see ``split_corpus.py``). Only its scores are printed:
  its failing texts stay hidden unless ``--show-held-out`` is given, so that tuning cannot
  creep onto it.

``--file PATH`` scores another labelled file (a blind batch) and prints its failures.

Each file's first line may be ``{"_meta": {"now": ..., "tz": ...}}``: the reference time every
expected date was computed for (default: LABELS' Wednesday 18 November 2026, 10:00, Paris). An
example written for another moment (a blind batch with its own ``_meta``, once it joined the
corpus) carries its own ``"now"`` and ``"tz"`` keys, which win over the file's. A ``"date"`` or
``"parts"`` key in an example is checked when present (``null`` means "must be null"); absent
means "not checked".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.intents import Intent, Understanding, understand

CORPUS = Path(__file__).with_name("corpus.jsonl")
HELD_OUT = Path(__file__).with_name("heldout.jsonl")
DEFAULT_NOW = "2026-11-18T10:00:00+01:00"
DEFAULT_TZ = "Europe/Paris"
#: LABELS: never read as pay_now or yes.
_NOT_CONSENT = frozenset({Intent.DISPUTE, Intent.ALREADY_PAID, Intent.NO, Intent.OPT_OUT})
_CONSENT = frozenset({Intent.PAY_NOW, Intent.YES})


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    locale: str
    intent: Intent
    raw: dict[str, Any]

    def moment(self, now: dt.datetime, tz: str) -> tuple[dt.datetime, str]:
        """The reference time of this example: its own when it has one, else the file's."""
        if "now" in self.raw:
            return dt.datetime.fromisoformat(self.raw["now"]), self.raw.get("tz", tz)
        return now, tz

    @property
    def checks_date(self) -> bool:
        return "date" in self.raw

    @property
    def checks_parts(self) -> bool:
        return "parts" in self.raw


@dataclass(frozen=True, slots=True)
class Corpus:
    now: dt.datetime
    tz: str
    examples: tuple[Example, ...]


@dataclass
class Report:
    total: int = 0
    correct: int = 0
    per_intent: Counter[str] = field(default_factory=Counter)
    per_intent_correct: Counter[str] = field(default_factory=Counter)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    critical: int = 0
    #: Readings the bot asks about instead of acting: unsure, or a "maybe" opt-out.
    asked: int = 0
    date_checked: int = 0
    date_correct: int = 0
    parts_checked: int = 0
    parts_correct: int = 0
    failures: list[tuple[Example, Understanding]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def intent_accuracy(self, intent: str) -> float:
        seen = self.per_intent[intent]
        return self.per_intent_correct[intent] / seen if seen else 0.0


def load_corpus(path: Path = CORPUS) -> Corpus:
    meta: dict[str, Any] = {"now": DEFAULT_NOW, "tz": DEFAULT_TZ}
    examples: list[Example] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if "_meta" in row:
            meta = row["_meta"]
            continue
        examples.append(Example(row["text"], row["locale"], Intent(row["intent"]), row))
    now = dt.datetime.fromisoformat(meta["now"])
    return Corpus(now=now, tz=meta["tz"], examples=tuple(examples))


#: How a text is read: `understand`'s signature (rules alone, or with another model).
Reader = Callable[..., Understanding]


def evaluate(
    examples: Iterable[Example], *, now: dt.datetime, tz: str, read: Reader = understand
) -> Report:
    report = Report()
    for example in examples:
        at, zone = example.moment(now, tz)
        result = read(example.text, locale=example.locale, now=at, tz=zone)
        _score(report, example, result)
    return report


def is_asked(result: Understanding) -> bool:
    """The bot asks instead of acting: an unsure reading or a sentence that may opt out."""
    return result.is_unsure or result.maybe_opt_out


def _score(report: Report, example: Example, result: Understanding) -> None:
    expected = example.intent.value
    report.total += 1
    report.per_intent[expected] += 1
    report.asked += is_asked(result)
    ok = result.intent is example.intent
    if example.checks_date:
        report.date_checked += 1
        got = result.date.isoformat() if result.date is not None else None
        date_ok = got == example.raw["date"]
        report.date_correct += date_ok
        ok = ok and date_ok
    if example.checks_parts:
        report.parts_checked += 1
        parts_ok = result.parts == example.raw["parts"]
        report.parts_correct += parts_ok
        ok = ok and parts_ok
    if is_critical(example.intent, result.intent):
        report.critical += 1
    if result.intent is example.intent:
        report.per_intent_correct[expected] += 1
    else:
        report.confusions[(expected, result.intent.value)] += 1
    if ok:
        report.correct += 1
    else:
        report.failures.append((example, result))


def is_critical(expected: Intent, got: Intent) -> bool:
    """LABELS' critical errors: a false or missed opt-out; a refusal read as consent to pay; a
    dispute read as a promise to pay later (issue 11: "a dispute must never be read as pay now,
    yes, or pay later": the promise would be booked and the contest never reach a person)."""
    if (expected is Intent.OPT_OUT) != (got is Intent.OPT_OUT):
        return True
    if expected is Intent.DISPUTE and got is Intent.PAY_LATER:
        return True
    return expected in _NOT_CONSENT and got in _CONSENT


def format_report(report: Report, *, top: int = 10, failures: bool = True) -> str:
    lines = ["intent           n   accuracy"]
    for intent in sorted(report.per_intent):
        lines.append(
            f"{intent:<14} {report.per_intent[intent]:>4}   {report.intent_accuracy(intent):7.1%}"
        )
    lines.append(
        f"overall (intent + date + parts): {report.correct}/{report.total} = {report.accuracy:.1%}"
    )
    lines.append(f"critical errors: {report.critical}")
    lines.append(f"asked (unsure or maybe opt-out): {report.asked}/{report.total}")
    if report.date_checked:
        lines.append(
            f"dates: {report.date_correct}/{report.date_checked} = "
            f"{report.date_correct / report.date_checked:.1%}"
        )
    if report.parts_checked:
        lines.append(
            f"parts: {report.parts_correct}/{report.parts_checked} = "
            f"{report.parts_correct / report.parts_checked:.1%}"
        )
    lines.append("top confusions (expected -> got):")
    for (expected, got), count in report.confusions.most_common(top) or [(("-", "-"), 0)]:
        lines.append(f"  {expected} -> {got}: {count}")
    if not failures:
        lines.append(f"failures: {len(report.failures)} (texts hidden)")
        return "\n".join(lines)
    lines.append("failures:")
    for example, result in report.failures:
        lines.append(
            f"  {example.text!r}: expected {example.raw.get('intent')} "
            f"date={example.raw.get('date')} parts={example.raw.get('parts')}; got "
            f"{result.intent.value} date={result.date} parts={result.parts}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.intents.evaluate")
    parser.add_argument("--file", type=Path, help="score this labelled file instead")
    parser.add_argument(
        "--show-held-out", action="store_true", help="also print the held-out failing texts"
    )
    args = parser.parse_args(argv)
    if args.file is not None:
        parts = [(str(args.file), load_corpus(args.file), True)]
    else:
        parts = [
            ("tuning (corpus.jsonl)", load_corpus(CORPUS), True),
            ("held-out (heldout.jsonl)", load_corpus(HELD_OUT), args.show_held_out),
        ]
    for title, corpus, show in parts:
        report = evaluate(corpus.examples, now=corpus.now, tz=corpus.tz)
        sys.stdout.write(f"== {title} ==\n" + format_report(report, failures=show) + "\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
