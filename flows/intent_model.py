"""The small trained model beside the rules: probabilities per intent, NumPy only.

A linear model over character n-grams (TF-IDF then multinomial logistic regression) trained by
``python -m tests.intents.train_model`` on the tuning part of the corpus and shipped as
``flows/lexicon/intent_model.npz`` (weights, n-grams, the SHA-256 of the corpus). scikit-learn
trains it; here the same arithmetic is redone with NumPy, so the bot does not need
scikit-learn: scikit-learn's ``char_wb`` analyzer (each word padded with one space, 2-5
characters), sublinear term frequency times idf, L2 norm, then a softmax over the classes.
``tests/unit/test_intent_model.py`` checks the probabilities equal ``predict_proba``.

`flows.intents.understand` asks it only where the rules are unsure or about to act on an
agreement to pay (see there for how the two are combined). The text given is already
normalised (`flows.intent_text.normalize`, ``.text``), as in training.

NumPy is imported by the first reading that needs the model, not when this module is: a
worker starts without it (tests/unit/test_worker_start_imports.py).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

DEFAULT_PATH = Path(__file__).with_name("lexicon") / "intent_model.npz"
#: Bumped when the file's layout changes; `load` refuses another.
FORMAT = "facto-intent-model/1"
_WHITE_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True, slots=True)
class IntentModel:
    """A loaded model. ``weights`` is one row per n-gram (n-grams x classes)."""

    classes: tuple[str, ...]
    columns: Mapping[str, int]
    idf: NDArray[np.float64]
    weights: NDArray[np.float64]
    intercept: NDArray[np.float64]
    ngram_range: tuple[int, int]
    corpus_sha256: str

    def probabilities(self, text: str) -> dict[str, float]:
        """Probability of each intent (by its value) for a normalised *text*."""
        import numpy as np

        counts = Counter(
            column
            for gram in char_ngrams(text, *self.ngram_range)
            if (column := self.columns.get(gram)) is not None
        )
        scores = self.intercept.copy()
        if counts:
            columns = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = np.fromiter(
                (1.0 + math.log(n) for n in counts.values()), dtype=np.float64, count=len(counts)
            )
            values = tf * self.idf[columns]
            values /= np.sqrt(values @ values)
            scores += values @ self.weights[columns]
        scores -= scores.max()
        exp = np.exp(scores)
        exp /= exp.sum()
        return dict(zip(self.classes, (float(p) for p in exp), strict=True))


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's ``char_wb`` analyzer (``_char_wb_ngrams``), lower-casing included."""
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            offset = 0
            grams.append(padded[:n])
            while offset + n < length:
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # a word shorter than n is counted once
                break
    return grams


def load(path: Path) -> IntentModel:
    """Read a file written by ``tests.intents.train_model``."""
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        named: dict[str, Any] = {name: data[name] for name in data.files}
    if str(named["format"]) != FORMAT:
        raise ValueError(f"{path}: format {named['format']}, expected {FORMAT}")
    ngrams = named["ngrams"].tobytes().decode("utf-8").split("\n")
    low, high = (int(n) for n in named["ngram_range"])
    return IntentModel(
        classes=tuple(str(named["classes"]).split("\n")),
        columns={gram: i for i, gram in enumerate(ngrams)},
        idf=named["idf"].astype(np.float64),
        weights=np.ascontiguousarray(named["coef"].T, dtype=np.float64),
        intercept=named["intercept"].astype(np.float64),
        ngram_range=(low, high),
        corpus_sha256=str(named["corpus_sha256"]),
    )


@functools.cache
def shipped() -> IntentModel:
    """The model shipped with the code, read once by the first reading that needs it."""
    return load(DEFAULT_PATH)
