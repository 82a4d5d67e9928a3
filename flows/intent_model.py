"""The small trained models beside the rules: a reader and an arbiter, NumPy only.

**The reader** gives a probability per intent: a linear model over character and word n-grams
trained by ``python -m tests.intents.train_model`` on the tuning part of the corpus and the
fresh lines of ``tests/intents/fresh/``, shipped as ``flows/lexicon/intent_model.npz``.
scikit-learn trains it; here the same arithmetic is redone with NumPy, so the bot does not
need scikit-learn: two TF-IDF blocks (scikit-learn's ``char_wb`` analyzer, each word padded
with one space, and its ``word`` analyzer over whitespace-separated tokens), each with
sublinear term frequency times idf and its own L2 norm, side by side (a ``FeatureUnion``),
then a softmax over the classes.

**The arbiter** decides between the rules' reading and the reader's: a multinomial logistic
regression over a few numbers (`arbiter_features`: the reader's probabilities, the rules'
intent and confidence...). It is trained on lines the rules had never seen when they read
them (blind batches read by the rules of the commit they were scored at, fresh lines read by
the rules of the day), so it learns how far each of the two can be trusted on new text.
`flows.intents` applies its choice within the safety rules (a legal keyword always opts out;
the models never opt anyone out nor take a refusal for consent).

``tests/unit/test_intent_model.py`` checks the probabilities equal ``predict_proba``. The
text given is already normalised (`flows.intent_text.normalize`, ``.text``), as in training.

NumPy is imported by the first reading that needs the model, not when this module is: a
worker starts without it (tests/unit/test_worker_start_imports.py).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

DEFAULT_PATH = Path(__file__).with_name("lexicon") / "intent_model.npz"
#: Bumped when the file's layout changes; `load` refuses another.
FORMAT = "facto-intent-model/2"
_TOKEN = re.compile(r"\S+")
#: Words counted by the arbiter's length feature, at most (a long message is a long message).
ARBITER_WORDS = 20


@dataclass(frozen=True, slots=True)
class Arbiter:
    """Multinomial logistic regression over `arbiter_features` (weights: features x classes)."""

    classes: tuple[str, ...]
    weights: NDArray[np.float64]
    intercept: NDArray[np.float64]

    def choose(self, features: Sequence[float]) -> tuple[str, float]:
        """The class it picks and its probability."""
        import numpy as np

        scores = np.asarray(features, dtype=np.float64) @ self.weights + self.intercept
        scores -= scores.max()
        exp = np.exp(scores)
        best = int(exp.argmax())
        return self.classes[best], float(exp[best] / exp.sum())


def arbiter_features(
    classes: Sequence[str],
    probabilities: Mapping[str, float],
    *,
    rules_intent: str,
    rules_confidence: float,
    maybe_opt_out: bool,
    words: int,
) -> list[float]:
    """What the arbiter sees of one message, in a fixed order (*classes*, the reader's):
    the reader's probability of each class, the rules' intent (one-hot), the rules'
    confidence, the reader's probability of the rules' intent, whether the rules ask about
    an opt-out, and the message's length in words (capped, scaled to 0-1)."""
    return [
        *(probabilities.get(c, 0.0) for c in classes),
        *(1.0 if c == rules_intent else 0.0 for c in classes),
        rules_confidence,
        probabilities.get(rules_intent, 0.0),
        1.0 if maybe_opt_out else 0.0,
        min(words, ARBITER_WORDS) / ARBITER_WORDS,
    ]


@dataclass(frozen=True, slots=True)
class NgramBlock:
    """One TF-IDF block of the reader: its n-grams' columns and idf."""

    columns: Mapping[str, int]
    idf: NDArray[np.float64]
    ngram_range: tuple[int, int]
    words: bool  # scikit-learn's "word" analyzer, else "char_wb"

    def grams(self, text: str) -> list[str]:
        low, high = self.ngram_range
        return word_ngrams(text, low, high) if self.words else char_ngrams(text, low, high)

    def vector(self, text: str) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """The block's non-zero columns and their L2-normalised TF-IDF values."""
        import numpy as np

        known = self.columns
        found: list[int] = []
        tf: list[float] = []
        for gram, n in Counter(self.grams(text)).items():
            column = known.get(gram)
            if column is not None:
                found.append(column)
                tf.append(1.0 + math.log(n))
        columns = np.array(found, dtype=np.intp)
        values = np.array(tf, dtype=np.float64) * self.idf[columns]
        if found:
            values /= np.sqrt(values @ values)
        return columns, values


@dataclass(frozen=True, slots=True, eq=False)
class IntentModel:
    """A loaded model. ``weights`` has one row per column of the blocks, in their order
    (columns x classes); ``arbiter`` is None for a reader alone (tests).

    Equal only to itself (``eq=False``): its arrays have no value equality, and readings are
    cached per model object (`flows.intents._understood`), so another model is never served
    a reading made with this one."""

    classes: tuple[str, ...]
    blocks: tuple[NgramBlock, ...]
    weights: NDArray[np.float64]
    intercept: NDArray[np.float64]
    inputs_sha256: str
    arbiter: Arbiter | None = None

    def probabilities(self, text: str) -> dict[str, float]:
        """Probability of each intent (by its value) for a normalised *text*."""
        import numpy as np

        scores = self.intercept.copy()
        offset = 0
        for block in self.blocks:
            columns, values = block.vector(text)
            if len(columns):
                scores += values @ self.weights[columns + offset]
            offset += len(block.idf)
        scores -= scores.max()
        exp = np.exp(scores)
        exp /= exp.sum()
        return dict(zip(self.classes, (float(p) for p in exp), strict=True))


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's ``char_wb`` analyzer (``_char_wb_ngrams``), lower-casing included."""
    grams: list[str] = []
    for word in text.lower().split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if length <= n:  # a word shorter than n is counted once, whole
                grams.append(padded)
                break
            grams.extend([padded[i : i + n] for i in range(length - n + 1)])
    return grams


def word_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's ``word`` analyzer with ``token_pattern=r"\\S+"``, lower-casing included."""
    tokens = _TOKEN.findall(text.lower())
    grams: list[str] = []
    for n in range(low, min(high, len(tokens)) + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def _lines(array: Any) -> list[str]:
    return bytes(array.tobytes()).decode("utf-8").split("\n")


def _block(named: Mapping[str, Any], prefix: str, words: bool) -> NgramBlock:
    import numpy as np

    low, high = (int(n) for n in named[f"{prefix}_range"])
    return NgramBlock(
        columns={gram: i for i, gram in enumerate(_lines(named[f"{prefix}_ngrams"]))},
        idf=named[f"{prefix}_idf"].astype(np.float64),
        ngram_range=(low, high),
        words=words,
    )


def load(path: Path) -> IntentModel:
    """Read a file written by ``tests.intents.train_model``."""
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        named: dict[str, Any] = {name: data[name] for name in data.files}
    if str(named["format"]) != FORMAT:
        raise ValueError(f"{path}: format {named['format']}, expected {FORMAT}")
    classes = tuple(str(named["classes"]).split("\n"))
    arbiter = None
    if "arbiter_coef" in named:
        arbiter = Arbiter(
            classes=tuple(str(named["arbiter_classes"]).split("\n")),
            weights=np.ascontiguousarray(named["arbiter_coef"].T, dtype=np.float64),
            intercept=named["arbiter_intercept"].astype(np.float64),
        )
    return IntentModel(
        classes=classes,
        blocks=(_block(named, "char", words=False), _block(named, "word", words=True)),
        weights=np.ascontiguousarray(named["coef"].T, dtype=np.float64),
        intercept=named["intercept"].astype(np.float64),
        inputs_sha256=str(named["inputs_sha256"]),
        arbiter=arbiter,
    )


@functools.cache
def shipped() -> IntentModel:
    """The model shipped with the code, read once by the first reading that needs it."""
    return load(DEFAULT_PATH)
