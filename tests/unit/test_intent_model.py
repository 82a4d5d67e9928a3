"""The trained intent models: the shipped file is fresh, NumPy reads it as scikit-learn does,
training is deterministic, and `understand` combines the reader and the arbiter with the rules
as decided (docs/decisions.md, "A trained model beside the rules"; docs/intents-blind.md, "An
arbiter between the rules and the reader")."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from flows import intent_model, intents
from flows.intent_model import (
    DEFAULT_PATH,
    Arbiter,
    IntentModel,
    char_ngrams,
    load,
    word_ngrams,
)
from flows.intent_text import normalize
from flows.intents import CLARIFY_BELOW, Intent, understand, understand_by_rules
from tests.intents.evaluate import CORPUS, load_corpus

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
TZ = "Europe/Paris"
SAMPLE_EXTRA = ("", "???", "zzzz", "a", "je  paie   demain | stop", "🙂 ok 👍", "x" * 300)


def logits(probabilities: Mapping[Intent, float]) -> tuple[tuple[str, ...], list[float]]:
    classes = tuple(i.value for i in Intent)
    rest = (1.0 - sum(probabilities.values())) / (len(classes) - len(probabilities))
    return classes, [math.log(probabilities.get(Intent(c), rest) or 1e-12) for c in classes]


def fixed(probabilities: Mapping[Intent, float], arbiter: Arbiter | None = None) -> IntentModel:
    """A reader that gives *probabilities* whatever the text (no n-gram, the intercept only)."""
    classes, scores = logits(probabilities)
    return IntentModel(
        classes=classes,
        blocks=(),
        weights=np.zeros((0, len(classes))),
        intercept=np.array(scores),
        inputs_sha256="",
        arbiter=arbiter,
    )


def choosing(intent: Intent, probability: float) -> Arbiter:
    """An arbiter that picks *intent* with *probability*, whatever it is shown."""
    classes, scores = logits({intent: probability})
    features = len(
        intent_model.arbiter_features(
            classes, {}, rules_intent="unknown", rules_confidence=1.0, maybe_opt_out=False, words=1
        )
    )
    return Arbiter(classes, np.zeros((features, len(classes))), np.array(scores))


def read(text: str, model: IntentModel, locale: str = "fr_FR") -> intents.Understanding:
    return understand(text, locale=locale, now=NOW, tz=TZ, model=model)


# --- the shipped file ----------------------------------------------------------------------


def test_the_shipped_model_was_trained_on_the_current_inputs() -> None:
    from tests.intents.train_model import inputs_sha256

    assert load(DEFAULT_PATH).inputs_sha256 == inputs_sha256(), (
        "flows/lexicon/intent_model.npz is stale (the corpus, the fresh lines or the readings "
        "changed): run `python -m tests.intents.train_model` and commit it"
    )


def test_the_shipped_model_has_its_arbiter() -> None:
    model = intent_model.shipped()
    assert model.arbiter is not None
    assert set(model.arbiter.classes) == {i.value for i in Intent}


def test_the_shipped_model_reads_every_intent_and_is_small() -> None:
    model = intent_model.shipped()
    assert set(model.classes) == {i.value for i in Intent}
    # "A few MB at most" (issue 11): 4.3 MB once U86-U95 joined (round 42), 5.1 MB once
    # U142-U157 joined (round 50); past 6 MB, prune the n-grams (docs/decisions.md).
    assert DEFAULT_PATH.stat().st_size < 6_000_000
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


def test_the_analyzers_are_scikit_learns(small: tuple[object, IntentModel, Path]) -> None:
    from tests.intents import train_model

    fitted, _, _ = small
    blocks = fitted[0].transformer_list  # type: ignore[index]
    chars, words = (vectorizer.build_analyzer() for _, vectorizer in blocks)
    for text in [*SAMPLE_EXTRA, "j ai deja paye | merci", "  deux   espaces  ", "Un Deux"]:
        assert char_ngrams(text, *train_model.CHAR_NGRAMS) == chars(text)
        assert sorted(word_ngrams(text, *train_model.WORD_NGRAMS)) == sorted(words(text))


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
    text = "ne m'écrivez plus, je suis en vacances"
    assert understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ).intent is Intent.OPT_OUT
    reading = read(text, fixed({Intent.SMALLTALK: intents.MODEL_NOT_OPT_OUT + 0.01}))
    assert reading.intent is Intent.SMALLTALK
    assert reading.maybe_opt_out
    assert reading.is_unsure
    assert reading.alternatives == (Intent.OPT_OUT, Intent.SMALLTALK)
    # The model's "opt back in" is no doubt: the two share their words.
    opt_in = fixed({Intent.OPT_IN: intents.MODEL_NOT_OPT_OUT + 0.01})
    assert read(text, opt_in).intent is Intent.OPT_OUT


def test_a_stop_asked_and_nothing_else_is_recorded_whatever_the_model_says() -> None:
    # "laissez moi tranquille": the reader's n-grams of "laissez-moi (jusqu'à vendredi)" have
    # no other word to weigh; only a courtesy may stand beside the stop.
    doubting = fixed({Intent.PAY_LATER: intents.MODEL_NOT_OPT_OUT + 0.05})
    for text in ("ne m'écrivez plus", "laissez moi tranquille svp", "fichez-moi la paix !"):
        reading = read(text, doubting)
        assert (reading.intent, reading.maybe_opt_out) == (Intent.OPT_OUT, False), text


def test_a_stop_said_for_good_in_a_clause_of_its_own_is_recorded_whatever_the_model_says() -> None:
    # After a complaint the reader's n-grams lean to a dispute; the stop said for good in a
    # clause of its own is the customer's decision. A stop the rest may qualify stays doubted.
    doubting = fixed({Intent.DISPUTE: intents.MODEL_NOT_OPT_OUT + 0.05})
    text = (
        "le travail était correct je dis pas, mais trois messages par semaine c'est trop,"
        " retirez-moi de vos listes une bonne fois pour toutes"
    )
    for said in (text, "you text too much, take me off the list permanently"):
        reading = read(said, doubting)
        assert (reading.intent, reading.maybe_opt_out) == (Intent.OPT_OUT, False), said
    # A stop the rest may qualify (a pause, a condition, another channel) stays doubted.
    for qualified in (
        "ne m'écrivez plus, je suis en vacances",
        "si les relances continuent, retirez-moi de vos listes définitivement",
        "ne m'envoyez plus de sms définitivement, je préfère les mails",
    ):
        reading = read(qualified, doubting)
        assert (reading.intent, reading.maybe_opt_out) == (Intent.DISPUTE, True), qualified


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


# --- the arbiter ---------------------------------------------------------------------------


def test_the_arbiter_never_overrules_a_legal_keyword() -> None:
    model = fixed({}, choosing(Intent.PAY_NOW, 0.99))
    for text in ("STOP", "stop svp", "STOP je paie maintenant"):
        assert read(text, model).intent is Intent.OPT_OUT


def test_the_arbiter_alone_never_opts_out_it_asks() -> None:
    text = "je paierai vendredi"
    reading = read(text, fixed({}, choosing(Intent.OPT_OUT, 0.99)))
    assert reading.intent is Intent.PAY_LATER
    assert reading.maybe_opt_out


def test_a_sentence_opt_out_is_not_the_arbiters_to_change() -> None:
    text = "ne m'écrivez plus"
    model = fixed({Intent.OPT_OUT: 0.9}, choosing(Intent.SMALLTALK, 0.99))
    assert read(text, model).intent is Intent.OPT_OUT


def test_the_arbiter_never_turns_a_refusal_into_consent() -> None:
    text = "je conteste cette facture"
    rules = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    assert rules.intent is Intent.DISPUTE
    reading = read(text, fixed({Intent.DISPUTE: 0.9}, choosing(Intent.PAY_NOW, 0.99)))
    # Read in so many words, it stands: asking "dispute, or pay now?" would offer the
    # customer the payment they contest.
    assert reading == rules
    # Read with less certainty, it is asked about, never acted on as consent.
    doubted = intents._arbitrated(
        dataclasses.replace(rules, confidence=0.7),
        Intent.PAY_NOW,
        0.99,
        normalize(text),
        today=NOW.date(),
        locale="fr_FR",
    )
    assert doubted.intent is Intent.DISPUTE and doubted.is_unsure
    assert doubted.alternatives == (Intent.DISPUTE, Intent.PAY_NOW)


@pytest.mark.parametrize(
    "text", ["je peux pas payer maintenant", "I can't pay right now", "no puedo pagar ahora"]
)
def test_the_arbiter_never_asks_someone_unable_to_pay_whether_they_pay_now(text: str) -> None:
    rules = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    assert rules.intent is Intent.PAY_LATER
    for choice in (Intent.PAY_NOW, Intent.YES):
        assert read(text, fixed({choice: 0.9}, choosing(choice, 0.99))) == rules


def test_the_arbiters_choice_is_acted_on_asked_about_or_ignored_by_how_sure_it_is() -> None:
    text = "combien je dois ?"
    assert understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ).confidence == 1.0

    def by(sure: float) -> intents.Understanding:
        return read(text, fixed({Intent.STATUS: 0.9}, choosing(Intent.HELP, sure)))

    acted = by(intents.ARBITER_OVER_EXPLICIT + 0.05)
    assert acted.intent is Intent.HELP
    assert not acted.is_unsure
    # The rules matched a pattern of theirs: a choice the arbiter would act on over a guess
    # of theirs is only asked about here.
    for sure in ((intents.ARBITER_SURE + intents.ARBITER_ACT) / 2, intents.ARBITER_ACT + 0.05):
        asked = by(sure)
        assert asked.intent is Intent.STATUS
        assert asked.is_unsure
        assert asked.alternatives == (Intent.STATUS, Intent.HELP)
    assert by(intents.ARBITER_SURE - 0.05) == understand_by_rules(
        text, locale="fr_FR", now=NOW, tz=TZ
    )


def test_a_dispute_read_in_so_many_words_is_not_turned_into_a_person_asked_for() -> None:
    text = "c'est pas moi, je veux parler à un conseiller"
    rules = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    assert rules.intent is Intent.DISPUTE and rules.confidence == 1.0
    sure = intents.ARBITER_OVER_EXPLICIT + 0.05
    assert read(text, fixed({Intent.DISPUTE: 0.9}, choosing(Intent.ASK_AGENT, sure))) == rules


def test_over_a_guess_of_the_rules_the_arbiter_acts_sooner() -> None:
    text = "vendredi c'est l'anniversaire de ma fille"
    rules = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    assert rules.intent is Intent.SMALLTALK
    guess = dataclasses.replace(rules, confidence=intents.ARBITER_EXPLICIT - 0.1)
    sure = intents.ARBITER_ACT + 0.05
    model = fixed({}, choosing(Intent.ASK_AGENT, sure))
    assert intents.with_model(guess, text, model).intent is Intent.ASK_AGENT
    assert intents.with_model(rules, text, model).intent is Intent.SMALLTALK


def test_a_promise_the_arbiter_chooses_gets_its_date_from_the_text() -> None:
    text = "vendredi c'est l'anniversaire de ma fille"
    assert understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ).intent is Intent.SMALLTALK
    reading = read(text, fixed({}, choosing(Intent.PAY_LATER, 0.95)))
    assert reading.intent is Intent.PAY_LATER
    assert reading.date == dt.date(2026, 11, 20)


def test_a_single_word_is_not_the_arbiters() -> None:
    for text in ("4", "hier", "oui"):
        rules = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
        reading = read(text, fixed({}, choosing(Intent.ALREADY_PAID, 0.99)))
        assert reading.intent is rules.intent


def test_not_yet_paid_is_never_a_payment_report() -> None:
    text = "j'ai pas encore payé, désolé"
    reading = read(text, fixed({}, choosing(Intent.ALREADY_PAID, 0.99)))
    assert reading.intent is not Intent.ALREADY_PAID


def test_what_the_rules_could_not_read_is_left_to_the_fallback() -> None:
    text = "blablabla truc"
    reading = read(text, fixed({Intent.HELP: 0.5}, choosing(Intent.DISPUTE, 0.99)))
    assert reading.intent is Intent.UNKNOWN


def test_a_reading_kept_for_the_shipped_model_is_not_served_for_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Readings are kept per process; a model put in the shipped one's place (as the flow
    # tests do) must read again, whatever the shipped one read of the same text that day.
    text = "je paie maintenant par carte"
    shipped = understand(text, locale="fr_FR", now=NOW, tz=TZ)
    assert shipped.intent is Intent.PAY_NOW and not shipped.is_unsure
    disputed = fixed({Intent.DISPUTE: intents.MODEL_CONFLICT + 0.1})
    monkeypatch.setattr(intent_model, "shipped", lambda: disputed)

    doubted = understand(text, locale="fr_FR", now=NOW, tz=TZ)

    assert doubted.intent is Intent.PAY_NOW and doubted.is_unsure
    assert understand(text, locale="fr_FR", now=NOW, tz=TZ) == doubted


def test_a_dispute_read_in_so_many_words_stands_unless_the_arbiter_is_surest() -> None:
    # "ça marche pas votre truc": the contest goes to a person, who sorts out what else it
    # was; asking "a dispute, or help?" would leave the reminders running meanwhile.
    text = "ça marche pas votre truc, la page s'affiche en allemand"
    rules = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    assert rules.intent is Intent.DISPUTE and rules.confidence == 1.0
    for sure in (intents.ARBITER_SURE + 0.01, intents.ARBITER_ACT + 0.05):
        model = fixed({Intent.HELP: 0.6}, choosing(Intent.HELP, sure))
        assert read(text, model) == rules
    surest = fixed({Intent.HELP: 0.6}, choosing(Intent.HELP, intents.ARBITER_OVER_EXPLICIT + 0.05))
    assert read(text, surest).intent is Intent.HELP
    # "c'est une arnaque", told: outrage, whatever the arbiter makes of its "arnaque" n-grams
    # (mostly from the question whether a message is one, which is help).
    scam = understand_by_rules("c'est une arnaque", locale="fr_FR", now=NOW, tz=TZ)
    assert read("c'est une arnaque", surest) == scam
    assert read("c'est une arnaque ?", surest).intent is Intent.HELP
    # "this is wrong, it's been paid in full": whether it is paid is still asked.
    paid = fixed({}, choosing(Intent.ALREADY_PAID, intents.ARBITER_ACT + 0.05))
    asked = read("c'est faux, c'est déjà payé en entier", paid)
    assert asked.intent is Intent.DISPUTE and asked.is_unsure


def test_a_payment_the_reader_doubts_and_the_arbiter_confirms_is_acted_on() -> None:
    # "je paye celle de 80 €": the reader's n-grams of an amount lean to a dispute; the
    # arbiter, trained on such doubts beside the rules' readings, sides with the payment.
    text = "je paie maintenant"
    rules = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    doubting = {Intent.DISPUTE: intents.MODEL_CONFLICT + 0.05}
    confirmed = read(text, fixed(doubting, choosing(Intent.PAY_NOW, intents.ARBITER_SURE + 0.01)))
    assert confirmed == rules
    for arbiter in (
        choosing(Intent.PAY_NOW, intents.ARBITER_SURE - 0.01),
        choosing(Intent.DISPUTE, intents.ARBITER_SURE + 0.05),
    ):
        asked = read(text, fixed(doubting, arbiter))
        assert asked.intent is Intent.PAY_NOW and asked.is_unsure
        assert asked.alternatives == (Intent.PAY_NOW, Intent.DISPUTE)
    # An opt-out the reader saw is confirmed with STOP, whatever the arbiter thinks.
    stopping = {Intent.OPT_OUT: intents.MODEL_CONFLICT + 0.05}
    kept = read(text, fixed(stopping, choosing(Intent.PAY_NOW, intents.ARBITER_OVER_EXPLICIT)))
    assert kept.maybe_opt_out and kept.is_unsure


def test_a_count_read_in_so_many_words_is_never_turned_into_paying_the_whole_now() -> None:
    # "je paie maintenant... non finalement en 3 fois": the reader's n-grams see "je paie
    # maintenant"; the change of mind the rules read is asked about, never overridden.
    text = "je paie maintenant... non finalement en 3 fois"
    rules = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    assert (rules.intent, rules.parts, rules.confidence) == (Intent.SPLIT, 3, 1.0)
    sure = intents.ARBITER_OVER_EXPLICIT + 0.05
    asked = read(text, fixed({Intent.PAY_NOW: 0.9}, choosing(Intent.PAY_NOW, sure)))
    assert (asked.intent, asked.parts) == (Intent.SPLIT, 3)
    assert asked.is_unsure and asked.alternatives == (Intent.SPLIT, Intent.PAY_NOW)
    # A yes to the plan is no such change.
    agreed = read(text, fixed({Intent.YES: 0.9}, choosing(Intent.YES, sure)))
    assert agreed.intent is Intent.YES
