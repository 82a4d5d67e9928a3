"""Would a small trained model generalise better than the rules? The comparison behind the
choice recorded in docs/decisions.md ("Understanding v2: rules, not a model").

Trains a linear model over character n-grams (scikit-learn, deterministic) on the tuning part
of the corpus and scores it, the rules, and "rules, unless the model is very sure" on the
held-out part (intents only: a model does not give dates). Also 5-fold cross-validation of the
model over the tuning part, and its speed on one core.

scikit-learn is not a dependency of Facto; run it from an environment that has it:
``python -m venv /tmp/ml && /tmp/ml/bin/pip install scikit-learn -e . &&
/tmp/ml/bin/python bench/intents_model_experiment.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-not-found]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-not-found]
    from sklearn.model_selection import StratifiedKFold, cross_val_score  # type: ignore[import-not-found]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-not-found]

    from flows.intent_text import normalize
    from flows.intents import Intent, understand
    from tests.intents.evaluate import CORPUS, HELD_OUT, is_critical, load_corpus

    tuning, held_out = load_corpus(CORPUS), load_corpus(HELD_OUT)
    x_train = [normalize(e.text).text for e in tuning.examples]
    y_train = [e.intent.value for e in tuning.examples]
    x_test = [normalize(e.text).text for e in held_out.examples]
    y_test = [e.intent for e in held_out.examples]

    def model() -> object:
        return make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            LogisticRegression(C=20, max_iter=2000),
        )

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    cv = cross_val_score(model(), x_train, y_train, cv=folds)
    fitted = model()
    fitted.fit(x_train, y_train)  # type: ignore[attr-defined]
    probabilities = fitted.predict_proba(x_test)  # type: ignore[attr-defined]
    classes = list(fitted.classes_)  # type: ignore[attr-defined]
    rules = [
        understand(e.text, locale=e.locale, now=held_out.now, tz=held_out.tz).intent
        for e in held_out.examples
    ]
    by_model = [Intent(classes[row.argmax()]) for row in probabilities]
    sure = [row.max() for row in probabilities]
    combined = [m if p >= 0.9 else r for m, r, p in zip(by_model, rules, sure, strict=True)]
    # The model only where the rules say "unknown", and never an opt-out or an agreement to pay
    # unless it is very sure (those are the critical readings).
    guarded = {Intent.OPT_OUT, Intent.PAY_NOW, Intent.YES}
    fallback = [
        m if r is Intent.UNKNOWN and (m not in guarded or p >= 0.9) and p >= threshold else r
        for m, r, p in zip(by_model, rules, sure, strict=True)
        for threshold in (0.5,)
    ]

    def score(name: str, got: list[Intent]) -> None:
        right = sum(g is e for g, e in zip(got, y_test, strict=True))
        critical = sum(is_critical(e, g) for g, e in zip(got, y_test, strict=True))
        print(f"{name:<34} {right}/{len(y_test)} = {right / len(y_test):.1%}  critical {critical}")

    print(f"model 5-fold CV on tuning: {cv.mean():.1%} (± {cv.std():.1%})")
    print("held-out, intent only:")
    score("rules", rules)
    score("char n-gram model", by_model)
    score("rules unless model p >= 0.9", combined)
    score("rules; model for unknown (p >= 0.5)", fallback)
    start = time.perf_counter()
    for _ in range(5):
        for text in x_test:
            fitted.predict_proba([text])  # type: ignore[attr-defined]
    rate = 5 * len(x_test) / (time.perf_counter() - start)
    print(f"model, one text at a time: {rate:,.0f} texts/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
