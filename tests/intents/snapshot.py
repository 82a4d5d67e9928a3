"""Record how `flows.intents.understand` reads every labelled line, to prove a refactor neutral.

Run ``python -m tests.intents.snapshot OUT.jsonl`` before and after a change that must not
change any reading (moving word lists into `flows/lexicon/*.toml`, say), then compare the two
files: ``python -m tests.intents.snapshot --compare BEFORE.jsonl AFTER.jsonl``. Every line of
corpus.jsonl, heldout.jsonl, blind/*.jsonl and probes/*.jsonl is read at its own moment (its
``now``/``tz``, else its file's, as in `tests.intents.evaluate`) and the whole Understanding is
recorded (intent, date, parts, confidence, alternatives, then, maybe_opt_out, language...).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flows.intents import understand
from tests.intents.evaluate import load_corpus

HERE = Path(__file__).parent


def labelled_files() -> list[Path]:
    return [
        HERE / "corpus.jsonl",
        HERE / "heldout.jsonl",
        *sorted((HERE / "blind").glob("*.jsonl")),
        *sorted((HERE / "probes").glob("*.jsonl")),
    ]


def readings() -> Iterator[dict[str, Any]]:
    for path in labelled_files():
        corpus = load_corpus(path)
        for example in corpus.examples:
            at, zone = example.moment(corpus.now, corpus.tz)
            result = understand(example.text, locale=example.locale, now=at, tz=zone)
            yield {
                "file": path.relative_to(HERE).as_posix(),
                "text": example.text,
                "locale": example.locale,
                "reading": repr(dataclasses.asdict(result)),
            }


def compare(before: Path, after: Path) -> int:
    old = before.read_text(encoding="utf-8").splitlines()
    new = after.read_text(encoding="utf-8").splitlines()
    differing = [(a, b) for a, b in zip(old, new, strict=False) if a != b]
    for a, b in differing[:20]:
        sys.stdout.write(f"- {a}\n+ {b}\n")
    sys.stdout.write(f"{len(old)} / {len(new)} lines, {len(differing)} differ\n")
    return 1 if differing or len(old) != len(new) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, nargs="?")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if args.out is None:
        parser.error("OUT or --compare is required")
    with args.out.open("w", encoding="utf-8") as f:
        for row in readings():
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
