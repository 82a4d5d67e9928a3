"""Add freshly labelled examples to the corpus, a quarter of them to the held-out part.

``python -m tests.intents.split_corpus NEW.jsonl`` appends each example of NEW.jsonl (labelled per
LABELS) to
``heldout.jsonl`` when the SHA-256 of its text and locale is 0 modulo 4, else to
``corpus.jsonl`` (tuning). The choice depends on the text alone, so it is deterministic and,
over many examples, stratified by intent in expectation. ``--tuning`` sends everything to the
tuning part (a blind batch, once scored, joins tuning: its score was already taken).

A file whose ``_meta`` reference time (or zone) differs from the corpus's keeps it: each of its
examples that expects a date is written with its own ``"now"`` and ``"tz"`` keys, so that the
date is still checked against the moment it was computed for (`tests.intents.evaluate`). The
others do not depend on the moment and are written as they are (so a line already in either
part is recognised and skipped).

The original corpus was split with the same hash, but ranked within each intent so that every
intent has exactly one example in four held out.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from tests.intents.evaluate import CORPUS, HELD_OUT, load_corpus


def is_held_out(text: str, locale: str) -> bool:
    digest = hashlib.sha256((text + "\x00" + locale).encode("utf-8")).hexdigest()
    return int(digest, 16) % 4 == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.intents.split_corpus")
    parser.add_argument("new", type=Path)
    parser.add_argument("--tuning", action="store_true", help="add everything to tuning")
    args = parser.parse_args(argv)
    known = {
        line
        for path in (CORPUS, HELD_OUT)
        for line in path.read_text(encoding="utf-8").splitlines()
    }
    counts = {CORPUS: 0, HELD_OUT: 0}
    corpus = load_corpus(CORPUS)
    batch = load_corpus(args.new)  # its _meta, or the default reference time
    own_moment = (batch.now, batch.tz) != (corpus.now, corpus.tz)
    for line in args.new.read_text(encoding="utf-8").splitlines():
        if not line.strip() or "_meta" in json.loads(line):
            continue
        row = json.loads(line)
        if own_moment and row.get("date") is not None and "now" not in row:
            row = {**row, "now": batch.now.isoformat(), "tz": batch.tz}
        out = json.dumps(row, ensure_ascii=False)
        if out in known:
            continue
        target = CORPUS if args.tuning or not is_held_out(row["text"], row["locale"]) else HELD_OUT
        with target.open("a", encoding="utf-8") as f:
            f.write(out + "\n")
        known.add(out)
        counts[target] += 1
    sys.stdout.write(f"tuning +{counts[CORPUS]}, held-out +{counts[HELD_OUT]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
