"""The trained intent model: the shipped file is fresh, NumPy reads it as scikit-learn does,
training is deterministic, and `understand` combines it with the rules as decided
(docs/decisions.md, "A trained model beside the rules")."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from flows import intent_model, intents
from flows.intent_model import DEFAULT_PATH, IntentModel, char_ngrams, load
from flows.intent_text import normalize
from flows.intents import CLARIFY_BELOW, Intent, understand, understand_by_rules
from tests.intents.evaluate import CORPUS, load_corpus

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
TZ = "Europe/Paris"
SAMPLE_EXTRA = ("", "???", "zzzz", "a", "je  paie   demain | stop", "🙂 ok 👍", "x" * 300)


def fixed(probabilities: Mapping[Intent, float]) -> IntentModel:
    """A model that gives *probabilities* whatever the text (no n-gram, the intercept only)."""
    classes = tuple(i.value for i in Intent)
    rest = (1.0 - sum(probabilities.values())) / (len(classes) - len(probabilities))
    logits = [math.log(probabilities.get(Intent(c), rest) or 1e-12) for c in classes]
    return IntentModel(
        classes=classes,
        columns={},
        idf=np.zeros(0),
        weights=np.zeros((0, len(classes))),
        intercept=np.array(logits),
        ngram_range=(2, 5),
        corpus_sha256="",
    )


def read(text: str, model: IntentModel, locale: str = "fr_FR") -> intents.Understanding:
    return understand(text, locale=locale, now=NOW, tz=TZ, model=model)


# --- the shipped file ----------------------------------------------------------------------


def test_the_shipped_model_was_trained_on_the_current_corpus() -> None:
    from tests.intents.train_model import corpus_sha256

    assert load(DEFAULT_PATH).corpus_sha256 == corpus_sha256(), (
        "flows/lexicon/intent_model.npz is stale (the corpus changed): "
        "run `python -m tests.intents.train_model` and commit it"
    )


def test_the_shipped_model_reads_every_intent_and_is_small() -> None:
    model = intent_model.shipped()
    assert set(model.classes) == {i.value for i in Intent}
    assert DEFAULT_PATH.stat().st_size < 4_000_000
    probabilities = model.probabilities(normalize("je paie maintenant").text)
    assert math.isclose(sum(probabilities.values()), 1.0)
    assert max(probabilities, key=probabilities.__getitem__) == "pay_now"


# --- NumPy reads it as scikit-learn does ---------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, IntentModel, Path]:
    """scikit-learn's model trained on a tenth of the corpus (fast), and the NumPy reading."""
    pytest.importorskip("sklearn")
    from tests.intents import train_model

    examples = load_corpus(CORPUS).examples[::10]
    fitted = train_model.fit(examples, set())
    path = tmp_path_factory.mktemp("model") / "small.npz"
    train_model.write(path, train_model.arrays(fitted, "test"))
    return fitted, load(path), path


def test_numpy_probabilities_equal_scikit_learns(small: tuple[object, IntentModel, Path]) -> None:
    fitted, model, _ = small
    texts = [normalize(e.text).text for e in load_corpus(CORPUS).examples[5::37]]
    texts += [normalize(t).text for t in SAMPLE_EXTRA]
    expected = fitted.predict_proba(texts)  # type: ignore[attr-defined]
    classes = list(fitted.classes_)  # type: ignore[attr-defined]
    got = np.array([[model.probabilities(t)[c] for c in classes] for t in texts])
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_the_analyzer_is_scikit_learns(small: tuple[object, IntentModel, Path]) -> None:
    fitted, _, _ = small
    analyze = fitted[0].build_analyzer()  # type: ignore[index]
    for text in [*SAMPLE_EXTRA, "j ai deja paye | merci", "  deux   espaces  "]:
        assert char_ngrams(text, 2, 5) == analyze(text)


def test_training_is_deterministic(
    small: tuple[object, IntentModel, Path], tmp_path: Path
) -> None:
    from tests.intents import train_model

    fitted, _, path = small
    again = tmp_path / "again.npz"
    train_model.write(again, train_model.arrays(fitted, "test"))
    assert again.read_bytes() == path.read_bytes()


# --- combined with the rules ---------------------------------------------------------------


def test_a_legal_keyword_is_an_opt_out_whatever_the_model_says() -> None:
    model = fixed({Intent.PAY_NOW: 0.99})
    for text in ("STOP", "stop svp", "Arrêt", "STOP je paie maintenant"):
        assert read(text, model).intent is Intent.OPT_OUT


def test_the_model_alone_never_opts_out_it_asks() -> None:
    reading = read("blablabla truc", fixed({Intent.OPT_OUT: 0.99}))
    assert reading.intent is not Intent.OPT_OUT
    assert reading.maybe_opt_out


def test_where_the_rules_read_nothing_the_model_decides_when_sure() -> None:
    text = "blablabla truc"
    assert understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ).intent is Intent.UNKNOWN
    sure = read(text, fixed({Intent.DISPUTE: intents.MODEL_FALLBACK + 0.05}))
    assert sure.intent is Intent.DISPUTE
    assert not sure.is_unsure
    unsure = read(text, fixed({Intent.DISPUTE: intents.MODEL_FALLBACK - 0.05}))
    assert unsure.intent is Intent.UNKNOWN


def test_an_agreement_to_pay_from_the_model_needs_more() -> None:
    between = (intents.MODEL_FALLBACK + intents.MODEL_FALLBACK_GUARDED) / 2
    assert read("blablabla truc", fixed({Intent.PAY_NOW: between})).intent is Intent.UNKNOWN
    sure = intents.MODEL_FALLBACK_GUARDED + 0.01
    assert read("blablabla truc", fixed({Intent.PAY_NOW: sure})).intent is Intent.PAY_NOW


def test_a_pay_now_the_model_reads_as_a_dispute_is_asked_about() -> None:
    text = "je paie maintenant"
    rules = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    assert rules.intent is Intent.PAY_NOW
    assert not rules.is_unsure
    reading = read(text, fixed({Intent.DISPUTE: intents.MODEL_CONFLICT + 0.05}))
    assert reading.intent is Intent.PAY_NOW
    assert reading.confidence < CLARIFY_BELOW
    assert reading.alternatives == (Intent.PAY_NOW, Intent.DISPUTE)
    calm = read(text, fixed({Intent.PAY_NOW: 0.9, Intent.DISPUTE: 0.05}))
    assert dataclasses.replace(calm) == rules


def test_a_yes_the_model_reads_as_an_opt_out_asks_for_stop() -> None:
    reading = read("oui", fixed({Intent.OPT_OUT: intents.MODEL_CONFLICT + 0.05}))
    assert reading.is_unsure
    assert reading.maybe_opt_out
    assert reading.intent is Intent.YES


def test_a_sentence_opt_out_the_model_doubts_is_confirmed_not_recorded() -> None:
    text = "ne m'écrivez plus"
    assert understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ).intent is Intent.OPT_OUT
    reading = read(text, fixed({Intent.SMALLTALK: intents.MODEL_NOT_OPT_OUT + 0.01}))
    assert reading.intent is Intent.SMALLTALK
    assert reading.maybe_opt_out
    assert reading.is_unsure
    assert reading.alternatives == (Intent.OPT_OUT, Intent.SMALLTALK)
    # The model's "opt back in" is no doubt: the two share their words.
    opt_in = fixed({Intent.OPT_IN: intents.MODEL_NOT_OPT_OUT + 0.01})
    assert read(text, opt_in).intent is Intent.OPT_OUT


def test_dates_and_parts_come_from_the_rules() -> None:
    promise = read("je paierai vendredi", fixed({Intent.PAY_LATER: 0.99}))
    assert promise.date == dt.date(2026, 11, 20)
    split = read("en 3 fois", fixed({Intent.SPLIT: 0.99}))
    assert split.parts == 3


def test_a_single_word_is_left_to_the_flow() -> None:
    """ "4" after "en combien de fois ?", "hier" after "quand pouvez-vous payer ?": the flow reads
    them in the context of its question; the model, sure as it may be, does not decide."""
    for text in ("4", "hier"):
        reading = read(text, fixed({Intent.ALREADY_PAID: 0.99}))
        assert reading.intent is not Intent.ALREADY_PAID
