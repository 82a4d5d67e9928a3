"""Would a small trained model generalise better than the rules? The comparison behind the
choices recorded in docs/decisions.md ("Understanding v2", "Fifth round").

Trains a linear model over character n-grams (scikit-learn TF-IDF + logistic regression,
deterministic) on the tuning part of the corpus and scores, intents only (a model gives no
dates): 5-fold cross-validation on the tuning part; the held-out part; and each labelled file
given with ``--blind`` (a blind batch or a probe), with the model trained on the tuning part
*minus that file's texts*, so the file is text the model never saw. On each, it compares the
rules, the model alone, "rules unless the model is ≥ 90 % sure", and the model as a fallback:
only where the rules say ``unknown``, never an opt-out / pay-now / yes below 90 %.

``--rules DIR`` reads the rules of another checkout (e.g. the commit a blind batch was scored
at, so that the rules did not see it either): ``git worktree add /tmp/r4 <commit>``.

scikit-learn is not a dependency of Facto; run it from an environment that has it:
``python -m venv /tmp/ml && /tmp/ml/bin/pip install scikit-learn &&
/tmp/ml/bin/python bench/intents_model_experiment.py --blind tests/intents/blind/E.jsonl``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blind", type=Path, action="append", default=[])
    parser.add_argument("--rules", type=Path, default=ROOT, help="checkout whose rules to read")
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validation")
    args = parser.parse_args()
    sys.path.insert(0, str(args.rules.resolve()))
    sys.path.insert(1, str(ROOT))
    from sklearn.model_selection import (
        StratifiedKFold,
        cross_val_score,
    )

    from flows.intent_text import normalize
    from tests.intents.evaluate import CORPUS, HELD_OUT, load_corpus

    tuning = load_corpus(CORPUS)
    x_train = [normalize(e.text).text for e in tuning.examples]
    y_train = [e.intent.value for e in tuning.examples]
    if not args.no_cv:
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        cv = cross_val_score(_model(), x_train, y_train, cv=folds)
        print(f"tuning: {len(x_train)} texts; model 5-fold CV: {cv.mean():.1%} ± {cv.std():.1%}")
    print(f"rules read from {args.rules}")
    fitted = _fit(tuning.examples, set())
    _compare("held-out part", HELD_OUT, fitted)
    for path in args.blind:
        excluded = {normalize(e.text).text for e in load_corpus(path).examples}
        unseen = _fit(tuning.examples, excluded)
        _compare(f"{path} (model trained without its texts)", path, unseen)
    start = time.perf_counter()
    sample = x_train[:500]
    for text in sample:
        fitted.predict_proba([text])
    rate = len(sample) / (time.perf_counter() - start)
    print(f"model, one text at a time: {rate:,.0f} texts/s")
    return 0


def _model() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        LogisticRegression(C=20, max_iter=2000),
    )


def _fit(examples: Sequence[Any], excluded: set[str]) -> Any:
    """The model trained on *examples* whose normalised text is not in *excluded*."""
    from flows.intent_text import normalize

    rows = [e for e in examples if normalize(e.text).text not in excluded]
    fitted = _model()
    fitted.fit([normalize(e.text).text for e in rows], [e.intent.value for e in rows])
    return fitted


def _compare(name: str, path: Path, fitted: Any) -> None:
    """Rules, model and their combinations on one labelled file, intents only."""
    from flows.intent_text import normalize
    from flows.intents import Intent, understand
    from tests.intents.evaluate import load_corpus

    corpus = load_corpus(path)
    expected = [e.intent for e in corpus.examples]
    rules = []
    for e in corpus.examples:
        now, tz = e.moment(corpus.now, corpus.tz)
        rules.append(understand(e.text, locale=e.locale, now=now, tz=tz).intent)
    probabilities = fitted.predict_proba([normalize(e.text).text for e in corpus.examples])
    classes = list(fitted.classes_)
    by_model = [Intent(classes[max(range(len(p)), key=p.__getitem__)]) for p in probabilities]
    sure = [max(row) for row in probabilities]
    guarded = {Intent.OPT_OUT, Intent.PAY_NOW, Intent.YES}
    combined = [m if p >= _SURE else r for m, r, p in zip(by_model, rules, sure, strict=True)]
    # The model only where the rules say "unknown", and never an opt-out or an agreement to pay
    # unless it is very sure (those are the critical readings).
    fallback = [
        m if r is Intent.UNKNOWN and p >= _FALLBACK and (m not in guarded or p >= _SURE) else r
        for m, r, p in zip(by_model, rules, sure, strict=True)
    ]
    # The same, only towards the readings the concept groups may also give (a person looks at
    # them, or the bot answers a question): never a refusal, small talk or a payment decision.
    safe = [
        m if r is Intent.UNKNOWN and p >= _FALLBACK and m.value in _SAFE else r
        for m, r, p in zip(by_model, rules, sure, strict=True)
    ]
    print(f"{name} ({len(expected)} texts), intent only:")
    for label, got in (
        ("rules", rules),
        ("char n-gram model", by_model),
        (f"rules unless model p >= {_SURE}", combined),
        ("rules; model for unknown", fallback),
        ("rules; model for unknown, safe", safe),
    ):
        _score(label, got, expected)


_SURE, _FALLBACK = 0.9, 0.5
_SAFE = frozenset({"dispute", "already_paid", "status", "help", "ask_agent"})


def _score(label: str, got: list[Any], expected: list[Any]) -> None:
    from tests.intents.evaluate import is_critical

    right = sum(g is e for g, e in zip(got, expected, strict=True))
    critical = sum(is_critical(e, g) for g, e in zip(got, expected, strict=True))
    share = right / len(expected)
    print(f"  {label:<30} {right}/{len(expected)} = {share:.1%}  critical {critical}")


if __name__ == "__main__":
    sys.exit(main())
