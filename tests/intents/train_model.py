"""Train the intent model shipped beside the rules (`flows.intent_model`, `flows.intents`).

``python -m tests.intents.train_model`` rewrites ``flows/lexicon/intent_model.npz`` from the
tuning part of the corpus (``corpus.jsonl``; never the held-out part). A linear model over
character n-grams: scikit-learn's TF-IDF (``char_wb``, 2-5 characters, sublinear term
frequency) then a multinomial logistic regression, on the texts as `flows.intent_text.normalize`
writes them. Deterministic and offline: the same corpus gives a byte-identical file (fixed zip
dates, arrays in a fixed order, lbfgs has no randomness). The file records the SHA-256 of the
corpus it was trained on; ``tests/unit/test_intent_model.py`` fails while it is stale.

``--exclude FILE`` (repeatable) drops the texts of a labelled file, to measure on a batch the
model never saw (`tests.intents.measure_model`); ``--out PATH`` writes elsewhere.

scikit-learn is a ``dev`` dependency: the bot reads the file with NumPy alone.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flows.intent_model import DEFAULT_PATH, FORMAT
from flows.intent_text import normalize
from tests.intents.evaluate import CORPUS, Example, load_corpus

#: Chosen by the experiment of docs/intents-blind.md (bench/intents_model_experiment.py):
#: word-bounded n-grams survive typos and glued words; C=20 fits the corpus closely, which
#: the 5-fold cross-validation preferred to the default C=1.
NGRAMS = (2, 5)
C = 20.0
MAX_ITER = 2000
#: Any fixed date: zip entries otherwise carry the time of writing.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def corpus_sha256(path: Path = CORPUS) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pipeline() -> Any:
    """The unfitted scikit-learn model."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True),
        LogisticRegression(C=C, max_iter=MAX_ITER),
    )


def fit(examples: Iterable[Example], excluded: set[str]) -> Any:
    """The model trained on *examples* whose normalised text is not in *excluded*."""
    rows = [(normalize(e.text).text, e.intent.value) for e in examples]
    rows = [(text, intent) for text, intent in rows if text not in excluded]
    fitted = pipeline()
    fitted.fit([text for text, _ in rows], [intent for _, intent in rows])
    return fitted


def excluded_texts(paths: Sequence[Path]) -> set[str]:
    return {normalize(e.text).text for path in paths for e in load_corpus(path).examples}


def arrays(fitted: Any, corpus_hash: str) -> dict[str, Any]:
    """What `flows.intent_model` reads: n-grams, idf, weights and classes, in a fixed order."""
    import numpy as np

    vectorizer, regression = fitted[0], fitted[1]
    ngrams = vectorizer.get_feature_names_out()  # sorted: column i is the i-th n-gram
    return {
        "format": np.array(FORMAT),
        "corpus_sha256": np.array(corpus_hash),
        "ngram_range": np.array(NGRAMS, dtype=np.int32),
        "ngrams": np.frombuffer("\n".join(ngrams).encode("utf-8"), dtype=np.uint8),
        "idf": vectorizer.idf_.astype(np.float32),
        "coef": regression.coef_.astype(np.float32),
        "intercept": regression.intercept_.astype(np.float32),
        "classes": np.array("\n".join(regression.classes_)),
    }


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.intents.train_model")
    parser.add_argument("--exclude", type=Path, action="append", default=[])
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    fitted = fit(load_corpus(CORPUS).examples, excluded_texts(args.exclude))
    write(args.out, arrays(fitted, corpus_sha256()))
    size = args.out.stat().st_size
    sys.stdout.write(f"wrote {args.out} ({size / 1e6:.1f} MB)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
