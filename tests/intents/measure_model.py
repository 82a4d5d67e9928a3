"""What the trained models add to the rules, on labelled files they never saw.

``python -m tests.intents.measure_model --blind tests/intents/blind/J.jsonl [--blind ...]``:
for each file, trains temporary models as shipped (`tests.intents.train_model`: the reader and
the arbiter) *without that file's texts anywhere*, then reads the file with the rules alone,
with the rules and the reader, and with the arbiter too (`flows.intents.understand`) and
prints, for each: strict accuracy (intent, date and parts, as `tests.intents.evaluate`),
critical errors, questions asked (readings that are unsure or a "maybe" opt-out), acted right
/ asked / acted wrong, and critical errors among the readings acted on.

The rules may have seen the file (batches join the tuning part once scored): their figure on it
is then flattering; the models' is not, they were trained without it.

``--stored`` uses the readings `tests.intents.readings` stored for the file (by the rules of
the commit it was scored at); ``--rules DIR`` reads the rules of another checkout (``git
archive <commit> | tar -x -C DIR``) in a subprocess. Either way, the readings are then
combined with the models by this checkout's `flows.intents.with_model`.

``--set NAME=VALUE`` (repeatable) overrides a threshold of `flows.intents` (``MODEL_FALLBACK``,
``MODEL_FALLBACK_GUARDED``, ``MODEL_CONFLICT``, ``MODEL_NOT_OPT_OUT``, ``ARBITER_SURE``) for
this run, to choose them. Needs scikit-learn (the ``dev`` extra). A few minutes per file.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from flows import intents
from flows.intent_model import IntentModel, load
from flows.intents import Intent, Understanding, understand, understand_by_rules, with_model
from tests.intents import train_model
from tests.intents.evaluate import (
    Corpus,
    Reader,
    Report,
    _score,
    is_asked,
    is_critical,
    load_corpus,
)
from tests.intents.readings import READINGS, load_readings

THRESHOLDS = (
    "MODEL_FALLBACK",
    "MODEL_FALLBACK_GUARDED",
    "MODEL_CONFLICT",
    "MODEL_NOT_OPT_OUT",
    "ARBITER_SURE",
)


@dataclass
class Tally:
    total: int = 0
    correct: int = 0
    critical: int = 0
    asked: int = 0
    acted_right: int = 0
    acted_wrong: int = 0
    critical_acted: int = 0

    def line(self, label: str) -> str:
        n = self.total
        return (
            f"  {label:<16} strict {self.correct}/{n} = {self.correct / n:.1%}  "
            f"critical {self.critical}  asked {self.asked} ({self.asked / n:.1%})  "
            f"acted right/asked/wrong {self.acted_right}/{self.asked}/{self.acted_wrong}  "
            f"critical acted on {self.critical_acted}"
        )


def tally(corpus: Corpus, read: Reader) -> Tally:
    result = Tally()
    for example in corpus.examples:
        at, zone = example.moment(corpus.now, corpus.tz)
        reading: Understanding = read(example.text, locale=example.locale, now=at, tz=zone)
        one = Report()
        _score(one, example, reading)
        critical = is_critical(example.intent, reading.intent)
        result.total += 1
        result.correct += one.correct
        result.critical += critical
        if is_asked(reading):
            result.asked += 1
            continue
        result.acted_right += one.correct
        result.acted_wrong += 1 - one.correct
        result.critical_acted += critical
    return result


#: Run inside another checkout: its readings of a labelled file, one JSON object per line.
_DUMP = """
import json, sys
from tests.intents.evaluate import load_corpus
from flows.intents import understand
corpus = load_corpus(__import__("pathlib").Path(sys.argv[1]))
for e in corpus.examples:
    now, tz = e.moment(corpus.now, corpus.tz)
    r = understand(e.text, locale=e.locale, now=now, tz=tz)
    print(json.dumps({
        "text": e.text, "intent": r.intent.value, "parts": r.parts,
        "date": r.date.isoformat() if r.date else None, "date_text": r.date_text,
        "language": r.language, "confidence": r.confidence,
        "maybe_opt_out": getattr(r, "maybe_opt_out", False),
        "then": [i.value for i in getattr(r, "then", ())],
        "alternatives": [i.value for i in getattr(r, "alternatives", ())],
    }))
"""


def readings_of(rules: Path, path: Path) -> dict[str, Understanding]:
    """The readings of *path*'s texts by the rules of the checkout *rules*."""
    done = subprocess.run(
        [sys.executable, "-c", _DUMP, str(path.resolve())],
        cwd=rules,
        capture_output=True,
        text=True,
        check=True,
    )
    readings: dict[str, Understanding] = {}
    for line in done.stdout.splitlines():
        row = json.loads(line)
        readings[row["text"]] = Understanding(
            Intent(row["intent"]),
            parts=row["parts"],
            date=dt.date.fromisoformat(row["date"]) if row["date"] else None,
            date_text=row["date_text"],
            language=row["language"],
            confidence=row["confidence"],
            maybe_opt_out=row["maybe_opt_out"],
            then=tuple(Intent(i) for i in row["then"]),
            alternatives=tuple(Intent(i) for i in row["alternatives"]),
        )
    return readings


def from_readings(readings: dict[str, Understanding], model: IntentModel | None) -> Reader:
    """A reader that looks the rules' reading up, then combines it with *model* (if any)."""

    def read(text: str, *, locale: str, now: dt.datetime, tz: str) -> Understanding:
        reading = readings[text]
        if model is None:
            return reading
        today = now.astimezone(ZoneInfo(tz)).date()
        return with_model(reading, text, model, today=today, locale=locale)

    return read


def stored_readings(path: Path) -> dict[str, Understanding]:
    """The readings `tests.intents.readings` stored for *path* (by the rules it was scored at)."""
    return {line.text: line.reading for line in load_readings(READINGS / f"{path.stem}.jsonl")}


def model_without(path: Path, work: Path) -> IntentModel:
    """The reader and the arbiter trained as shipped, minus the texts of *path* everywhere."""
    out = work / f"without-{path.stem}.npz"
    train_model.main(["--exclude", str(path), "--out", str(out)])
    return load(out)


def reader_alone(model: IntentModel) -> IntentModel:
    return dataclasses.replace(model, arbiter=None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.intents.measure_model")
    parser.add_argument("--blind", type=Path, action="append", required=True)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--rules", type=Path, help="checkout whose rules to read")
    parser.add_argument(
        "--stored", action="store_true", help="the readings stored in tests/intents/readings/"
    )
    args = parser.parse_args(argv)
    for assignment in args.set:
        name, _, value = assignment.partition("=")
        if name not in THRESHOLDS:
            parser.error(f"--set: one of {', '.join(THRESHOLDS)}")
        setattr(intents, name, float(value))
    sys.stdout.write(
        "thresholds: " + ", ".join(f"{n}={getattr(intents, n)}" for n in THRESHOLDS) + "\n"
    )
    with tempfile.TemporaryDirectory() as work:
        for path in args.blind:
            corpus = load_corpus(path)
            model = model_without(path, Path(work))
            rules: Reader = understand_by_rules
            reader: Reader = functools.partial(understand, model=reader_alone(model))
            combined: Reader = functools.partial(understand, model=model)
            origin = "rules of this checkout"
            if args.rules is not None or args.stored:
                readings = stored_readings(path) if args.stored else readings_of(args.rules, path)
                rules = from_readings(readings, None)
                reader = from_readings(readings, reader_alone(model))
                combined = from_readings(readings, model)
                origin = "stored readings" if args.stored else f"rules of {args.rules}"
            sys.stdout.write(
                f"{path} ({len(corpus.examples)} texts; {origin}; models trained without them)\n"
            )
            sys.stdout.write(tally(corpus, rules).line("rules alone") + "\n")
            sys.stdout.write(tally(corpus, reader).line("rules + reader") + "\n")
            sys.stdout.write(tally(corpus, combined).line("+ arbiter") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
