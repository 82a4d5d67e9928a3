"""Train the models shipped beside the rules (`flows.intent_model`, `flows.intents`).

``python -m tests.intents.train_model`` rewrites ``flows/lexicon/intent_model.npz``:

- **the reader**, from the tuning part of the corpus (``corpus.jsonl``; never the held-out
  part) and the fresh lines of ``tests/intents/fresh/``: scikit-learn's TF-IDF over
  character n-grams (``char_wb``, 1-5) and word n-grams (1-2) side by side, each with
  sublinear term frequency, then a multinomial logistic regression, on the texts as
  `flows.intent_text.normalize` writes them;
- **the arbiter**, from the readings of ``tests/intents/readings/`` (`tests.intents.readings`:
  lines the rules had never seen when they read them). The readings files, in their sorted
  order, are cut into groups of ``--files-per-reader`` (default 12: the three writers of four
  batches); for each group, a reader trained *without that group's texts* gives the
  probabilities the arbiter learns from (so it learns how the reader does on text it never
  saw, as in use); the rules' reading is combined with them as `flows.intents` does before
  the arbiter; a multinomial logistic regression learns which of the two to trust
  (`flows.intent_model.arbiter_features`).

Deterministic and offline: the same inputs give a byte-identical file (fixed zip dates,
arrays in a fixed order, lbfgs has no randomness). The file records the SHA-256 of its inputs;
``tests/unit/test_intent_model.py`` fails while it is stale. Each group's reader and then the
shipped one are fitted on nearly the whole corpus: a fit takes about a minute on this corpus
(39,000 lines), so one reader per readings file (``--files-per-reader 1``, as up to round 46)
took about two and a half hours on two cores for 289 files; groups of 12 take 25 fits. The
readers are fitted by ``--jobs`` processes side by side (default: one per core this may use),
each in a fresh process, so the file is the same whatever ``--jobs`` is. Memory: one fit
(under 1 GB) per job.

``--exclude FILE`` (repeatable) drops the texts of a labelled file from everything, to
measure on a batch the models never saw (`tests.intents.measure_model`); ``--out PATH``
writes elsewhere; ``--report`` prints the arbiter's accuracy on each readings file when
trained on the others (leave-one-file-out).

scikit-learn is a ``dev`` dependency: the bot reads the file with NumPy alone.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import multiprocessing
import os
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from flows import intents
from flows.intent_model import DEFAULT_PATH, FORMAT, IntentModel, arbiter_features, load
from flows.intent_text import normalize
from tests.intents.evaluate import CORPUS, Example, load_corpus
from tests.intents.readings import ReadLine, load_readings, readings_files

FRESH = Path(__file__).with_name("fresh")
#: Chosen on blind batches K-N, each read by a reader trained without it
#: (docs/intents-blind.md, "An arbiter between the rules and the reader"): word-bounded
#: character n-grams survive typos and glued words, word pairs keep "pas payé" apart from
#: "payé"; C=20 fits the corpus closely, which cross-validation preferred to C=1.
CHAR_NGRAMS = (1, 5)
WORD_NGRAMS = (1, 2)
C = 20.0
MAX_ITER = 3000
#: The arbiter sees ~30 numbers per line and learns from a few thousand lines.
ARBITER_C = 1.0
#: Any fixed date: zip entries otherwise carry the time of writing.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_Rows = list[tuple[str, str]]


def fresh_files() -> list[Path]:
    return sorted(FRESH.glob("*.jsonl"))


def inputs_sha256() -> str:
    """One hash over everything the models learn from, in a fixed order."""
    digest = hashlib.sha256()
    for path in [CORPUS, *fresh_files(), *readings_files()]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def pipeline() -> Any:
    """The unfitted scikit-learn reader."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    return make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True),
            TfidfVectorizer(
                analyzer="word", ngram_range=WORD_NGRAMS, sublinear_tf=True, token_pattern=r"\S+"
            ),
        ),
        LogisticRegression(C=C, max_iter=MAX_ITER),
    )


def rows_of(examples: Iterable[Example]) -> _Rows:
    return [(normalize(e.text).text, e.intent.value) for e in examples]


def reader_rows(excluded: set[str]) -> _Rows:
    """The reader's training lines: the tuning part and the fresh files, minus *excluded*."""
    rows = rows_of(load_corpus(CORPUS).examples)
    for path in fresh_files():
        rows += rows_of(load_corpus(path).examples)
    return [(text, intent) for text, intent in rows if text not in excluded]


def fit(examples: Iterable[Example], excluded: set[str]) -> Any:
    """A reader trained on *examples* whose normalised text is not in *excluded*."""
    return fit_rows([row for row in rows_of(examples) if row[0] not in excluded])


def fit_rows(rows: _Rows) -> Any:
    fitted = pipeline()
    fitted.fit([text for text, _ in rows], [intent for _, intent in rows])
    return fitted


def excluded_texts(paths: Sequence[Path]) -> set[str]:
    return {normalize(e.text).text for path in paths for e in load_corpus(path).examples}


def arrays(fitted: Any, inputs_hash: str, arbiter: Any = None) -> dict[str, Any]:
    """What `flows.intent_model` reads: n-grams, idf, weights and classes, in a fixed order."""
    import numpy as np

    union, regression = fitted[0], fitted[1]
    named: dict[str, Any] = {
        "format": np.array(FORMAT),
        "inputs_sha256": np.array(inputs_hash),
        "classes": np.array("\n".join(regression.classes_)),
        "coef": regression.coef_.astype(np.float32),
        "intercept": regression.intercept_.astype(np.float32),
    }
    for prefix, (_, vectorizer) in zip(("char", "word"), union.transformer_list, strict=True):
        grams = vectorizer.get_feature_names_out()  # sorted: column i is the i-th n-gram
        named[f"{prefix}_range"] = np.array(vectorizer.ngram_range, dtype=np.int32)
        named[f"{prefix}_ngrams"] = np.frombuffer("\n".join(grams).encode(), dtype=np.uint8)
        named[f"{prefix}_idf"] = vectorizer.idf_.astype(np.float32)
    if arbiter is not None:
        named["arbiter_classes"] = np.array("\n".join(arbiter.classes_))
        named["arbiter_coef"] = arbiter.coef_.astype(np.float32)
        named["arbiter_intercept"] = arbiter.intercept_.astype(np.float32)
    return named


def as_model(fitted: Any) -> IntentModel:
    """The NumPy reading of a fitted reader (no arbiter), as the bot would load it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reader.npz"
        write(path, arrays(fitted, ""))
        return load(path)


def arbiter_rows(lines: Sequence[ReadLine], reader: IntentModel) -> list[list[float]]:
    """The arbiter's features for *lines*, with *reader*'s probabilities (one that never saw
    them), after the rules and the reader are combined as `flows.intents` does."""
    rows = []
    for line in lines:
        norm = normalize(line.text)
        combined = intents.with_model(line.reading, line.text, reader)
        rows.append(
            arbiter_features(
                reader.classes,
                reader.probabilities(norm.text),
                rules_intent=combined.intent.value,
                rules_confidence=combined.confidence,
                maybe_opt_out=combined.maybe_opt_out,
                words=len(norm.text.split()),
            )
        )
    return rows


_ArbiterData = tuple[list[list[float]], list[str]]


#: Readings files whose texts one reader is fitted without (the three writers of four batches).
FILES_PER_READER = 12


def groups(paths: Sequence[Path], size: int) -> list[tuple[Path, ...]]:
    """*paths* in their order, cut into groups of *size* (the last one may be shorter)."""
    return [tuple(paths[i : i + size]) for i in range(0, len(paths), size)]


def arbiter_data(
    excluded: set[str], jobs: int = 1, files_per_reader: int = FILES_PER_READER
) -> dict[str, _ArbiterData]:
    """Per readings file: its features (a reader trained without its group's texts) and
    labels.

    One reader per group of files, each independent of the others, each fitted in a process
    of its own (a fresh one per group), *jobs* of them side by side: the fits are most of the
    training's time. A process per group keeps the result the same whatever *jobs* is: a
    reader fitted after another in the same process came out a few 1e-8 apart from the same
    reader fitted first (measured on two files)."""
    cut = groups(readings_files(), files_per_reader)
    workers = max(1, min(jobs, len(cut)))
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context, max_tasks_per_child=1) as pool:
        try:
            done = pool.map(_arbiter_group, cut, itertools.repeat(excluded))
            return {name: data for group in done for name, data in group}
        except BaseException:
            pool.shutdown(cancel_futures=True)  # not the hour of fits still queued
            raise


def _arbiter_group(paths: tuple[Path, ...], excluded: set[str]) -> list[tuple[str, _ArbiterData]]:
    from threadpoolctl import threadpool_limits

    # One BLAS thread per process: the processes side by side use the cores (two files fitted
    # at once took 28 s against 45 s one after the other).
    with threadpool_limits(limits=1):
        try:
            read = {
                path.stem: [
                    x for x in load_readings(path) if normalize(x.text).text not in excluded
                ]
                for path in paths
            }
            own = {normalize(x.text).text for lines in read.values() for x in lines}
            if not own:
                return [(name, ([], [])) for name in read]
            reader = as_model(fit_rows(reader_rows(excluded | own)))
            return [
                (name, (arbiter_rows(lines, reader), [x.intent.value for x in lines]))
                for name, lines in read.items()
            ]
        except Exception as exc:
            exc.add_note(f"while fitting the reader without {', '.join(map(str, paths))}")
            raise


def fit_arbiter(features: list[list[float]], labels: list[str]) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=ARBITER_C, max_iter=MAX_ITER).fit(features, labels)


def report(data: dict[str, _ArbiterData]) -> None:
    """Leave one readings file out: the arbiter's raw choice against the label."""
    for held, (features, labels) in data.items():
        if not labels:
            continue
        rest_x = [f for name, (x, _) in data.items() if name != held for f in x]
        rest_y = [y for name, (_, ys) in data.items() if name != held for y in ys]
        arbiter = fit_arbiter(rest_x, rest_y)
        right = sum(p == y for p, y in zip(arbiter.predict(features), labels, strict=True))
        sys.stdout.write(f"  {held}: arbiter {right}/{len(labels)}\n")


def write(path: Path, named: dict[str, Any]) -> None:
    """An .npz numpy.load reads, byte-identical for identical arrays."""
    import numpy as np

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in named.items():
            data = io.BytesIO()
            np.lib.format.write_array(data, np.asarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data.getvalue())
    path.write_bytes(buffer.getvalue())


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.intents.train_model")
    parser.add_argument("--exclude", type=Path, action="append", default=[])
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--report", action="store_true")
    parser.add_argument(
        "--jobs",
        type=_positive,
        default=len(os.sched_getaffinity(0)),
        help="processes fitting the readers side by side (default: the cores this may use)",
    )
    parser.add_argument(
        "--files-per-reader",
        type=_positive,
        default=FILES_PER_READER,
        help="readings files one reader is fitted without (1: one reader per file)",
    )
    args = parser.parse_args(argv)
    excluded = excluded_texts(args.exclude)
    data = arbiter_data(excluded, jobs=args.jobs, files_per_reader=args.files_per_reader)
    if args.report:
        report(data)
    features = [f for x, _ in data.values() for f in x]
    labels = [y for _, ys in data.values() for y in ys]
    arbiter = fit_arbiter(features, labels) if features else None
    fitted = fit_rows(reader_rows(excluded))
    write(args.out, arrays(fitted, inputs_sha256(), arbiter))
    size = args.out.stat().st_size
    sys.stdout.write(f"wrote {args.out} ({size / 1e6:.1f} MB)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
