"""The rules' readings of labelled lines they had never seen: what the arbiter learns from.

``python -m tests.intents.readings FILE.jsonl [--rules DIR --commit SHA]`` reads every line of
a labelled file with the rules alone (`flows.intents.understand_by_rules`) and writes
``tests/intents/readings/<FILE's name>.jsonl``: the label and the reading, nothing else.
``--rules DIR`` takes the readings of another checkout (``git archive <SHA> | tar -x -C
DIR``): a blind batch must be read by the rules of the commit it was scored at, before any
change made for it, or the arbiter would learn how well the rules read text tuned on.
A fresh file (``tests/intents/fresh/``) is read by the rules of the day, before anyone looks
at it, and its readings are never rewritten afterwards.

First line: ``{"_meta": {"source": ..., "rules": <commit>}}``; then one object per line:
``text``, ``locale``, ``intent`` (the label) and ``reading`` (intent, confidence,
maybe_opt_out, alternatives, parts, date, language).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.intents import Intent, Understanding

READINGS = Path(__file__).with_name("readings")

#: Run inside a checkout (this one or another): its rules' readings, one JSON object per line.
_DUMP = """
import json, sys, pathlib
from tests.intents.evaluate import load_corpus
try:
    from flows.intents import understand_by_rules as read
except ImportError:  # before the model was shipped, `understand` was the rules alone
    from flows.intents import understand as read
corpus = load_corpus(pathlib.Path(sys.argv[1]))
for e in corpus.examples:
    # older checkouts: every line of a file is read at the file's moment
    now, tz = e.moment(corpus.now, corpus.tz) if hasattr(e, "moment") else (corpus.now, corpus.tz)
    r = read(e.text, locale=e.locale, now=now, tz=tz)
    print(json.dumps({"text": e.text, "locale": e.locale, "intent": e.intent.value, "reading": {
        "intent": r.intent.value, "confidence": r.confidence,
        "maybe_opt_out": getattr(r, "maybe_opt_out", False),
        "alternatives": [i.value for i in getattr(r, "alternatives", ())],
        "parts": r.parts, "date": r.date.isoformat() if r.date else None,
        "language": r.language}}, ensure_ascii=False))
"""


@dataclass(frozen=True, slots=True)
class ReadLine:
    text: str
    locale: str
    intent: Intent
    reading: Understanding


def as_understanding(row: dict[str, Any]) -> Understanding:
    return Understanding(
        Intent(row["intent"]),
        parts=row.get("parts"),
        date=dt.date.fromisoformat(row["date"]) if row.get("date") else None,
        language=row.get("language"),
        confidence=float(row["confidence"]),
        maybe_opt_out=bool(row.get("maybe_opt_out")),
        alternatives=tuple(Intent(i) for i in row.get("alternatives", ())),
    )


def load_readings(path: Path) -> list[ReadLine]:
    lines: list[ReadLine] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(raw)
        if "_meta" in row:
            continue
        lines.append(
            ReadLine(
                row["text"], row["locale"], Intent(row["intent"]), as_understanding(row["reading"])
            )
        )
    return lines


def readings_files() -> list[Path]:
    return sorted(READINGS.glob("*.jsonl"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.intents.readings")
    parser.add_argument("file", type=Path)
    parser.add_argument("--rules", type=Path, default=Path.cwd())
    parser.add_argument("--commit", default=None)
    args = parser.parse_args(argv)
    commit = (
        args.commit
        or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    done = subprocess.run(
        [sys.executable, "-c", _DUMP, str(args.file.resolve())],
        cwd=args.rules,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(args.rules.resolve()), "PATH": "/usr/bin:/bin"},
    )
    out = READINGS / f"{args.file.stem}.jsonl"
    meta = {"_meta": {"source": str(args.file), "rules": commit}}
    out.write_text(json.dumps(meta) + "\n" + done.stdout, encoding="utf-8")
    sys.stdout.write(f"wrote {out} ({len(done.stdout.splitlines())} readings)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
