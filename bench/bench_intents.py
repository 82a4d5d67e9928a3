"""Throughput of `flows.intents.understand` over the labelled corpus, on one core.

Run: ``python bench/bench_intents.py [--texts 20000] [--repeat 5]``. Prints texts per second
(median of the repeats) and the ratio against two baselines measured in the same run:

- a naive keyword baseline (``str.lower()`` plus a few ``in`` checks): the floor cost of
  looking at the text at all, so the ratio says how much of that budget the real work takes;
- ``dateparser.parse`` on each text (what a naive "parse every reply for a date" design
  would pay), measured on a sample because it is slow.

Times are never asserted: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 5000


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    _pin_to_one_core()
    sys.path.insert(0, str(ROOT))
    from flows.intents import understand
    from tests.intents.evaluate import load_corpus

    corpus = load_corpus()
    pairs = [(e.text, e.locale) for e in corpus.examples]
    texts = (pairs * (args.texts // len(pairs) + 1))[: args.texts]
    now, tz = corpus.now, corpus.tz

    def run_understand() -> None:
        for text, locale in texts:
            understand(text, locale=locale, now=now, tz=tz)

    def run_naive() -> None:
        for text, _locale in texts:
            _naive(text)

    run_understand()  # warm-up: compiled regexes, zoneinfo cache, lazy imports
    ours = _rate(run_understand, len(texts), args.repeat)
    naive = _rate(run_naive, len(texts), args.repeat)
    sample = texts[: args.dateparser_sample]
    parser = _dateparser_rate(sample, now, args.repeat)

    print(
        f"corpus: {len(pairs)} examples, repeated to {len(texts)} texts, "
        f"median of {args.repeat} runs"
    )
    print(
        f"intents: {ours:,.0f} texts/s (target {TARGET}) — ratio vs baseline "
        f"{ours / naive:.3f} (naive lower()+keyword baseline: {naive:,.0f} texts/s)"
    )
    print(
        f"intents vs dateparser.parse on every text ({parser:,.0f} texts/s on "
        f"{len(sample)} texts): ratio {ours / parser:.1f}"
    )
    return 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000, help="texts per run")
    parser.add_argument("--repeat", type=int, default=5, help="runs; the median is reported")
    parser.add_argument(
        "--dateparser-sample",
        type=int,
        default=300,
        help="texts for the dateparser baseline (slow)",
    )
    return parser.parse_args(argv)


def _pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _rate(run: Callable[[], None], count: int, repeat: int) -> float:
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


_KEYWORDS = ("stop", "payer", "pay", "plus tard", "later", "fois", "conseiller", "merci")


def _naive(text: str) -> str | None:
    lowered = text.lower()
    for keyword in _KEYWORDS:
        if keyword in lowered:
            return keyword
    return None


def _dateparser_rate(sample: list[tuple[str, str]], now: object, repeat: int) -> float:
    import datetime as dt

    import dateparser

    assert isinstance(now, dt.datetime)
    base = now.replace(tzinfo=None)

    def run() -> None:
        for text, locale in sample:
            dateparser.parse(
                text,
                languages=[locale[:2]],
                settings={
                    "PREFER_DATES_FROM": "future",
                    "RELATIVE_BASE": base,
                    "DATE_ORDER": "DMY",
                },
            )

    run()  # warm-up: dateparser loads its locale data on first use
    return _rate(run, len(sample), max(1, repeat // 2))


if __name__ == "__main__":
    sys.exit(main())
