"""Where a stop word stands in a sentence: wanted, asked about, or a thing (issue 11).

A stop word (``stop_word``: "stop", "arrêter", "désinscrire", "unsubscribe", "parar"...) inside a
sentence asks to stop our messages only when nothing around it says otherwise. The phrasings of
the lexicon's ``opt_out_defused`` and ``opt_out_maybe`` catch the turns customers use most; this
module reads the words around each stop word instead, so that a new phrasing of the same shape
is read alike:

- **not wanted**: a negator before it, with only a verb of wanting, asking or sending
  (``stop_wish``) and small words (``stop_filler``) between: "je ne veux surtout pas me
  désinscrire", "I never sent STOP", "not asking you to stop the messages", "no quiero darme de
  baja". Without such a verb ("vous n'arrêtez pas de m'écrire") the negation may be a complaint
  and is left to the phrasings;
- **asked about**: the keyword named as the thing one would send (``stop_send`` just before
  it) in a question or a condition (``stop_asked``): "Envoyer STOP ça coûte combien ?", "does
  texting STOP cost anything?", "si contesto STOP se cancela la factura?". The bot answers the
  rest and asks the one-line confirmation;
- **a thing**: the word as a noun with an indefinite article or a qualifier
  (``stop_as_thing``: "un petit stop pour régler", "un arrêt d'urgence", "an emergency stop
  valve"), when no messages are named in the words after it.
"""

from __future__ import annotations

from flows.intent_words import Lexicon

Span = tuple[int, int]

#: How far back a negator may stand from the stop word ("je ne veux surtout pas me désinscrire").
_REACH = 6
#: How far after a stop word the messages may be named ("un arrêt d'urgence de vos messages").
_MESSAGES_REACH = 5


def not_wanted(text: str, words: Lexicon) -> list[Span]:
    """Stop words under a negated wish or sending ("je ne veux pas me désabonner")."""
    return [
        found.span()
        for found in words.pattern("stop_word").finditer(text)
        if _negated_wish(text[: found.start()].rsplit(" | ", 1)[-1].split(), words)
    ]


def asked_about(text: str, words: Lexicon) -> list[Span]:
    """The keyword as the thing one would send, in a question or a condition; not one sent
    already ("j'ai envoyé STOP, combien de fois faut-il le faire ?" still opts out)."""
    spans: list[Span] = []
    start = 0
    for clause in text.split(" | "):
        if words.pattern("stop_asked").search(clause) and not words.pattern(
            "stop_sent_before"
        ).search(clause):
            for found in words.pattern("stop_word").finditer(clause):
                before = clause[: found.start()].split()
                if before and words.pattern("stop_send_asked").fullmatch(before[-1]):
                    spans.append((start + found.start(), start + found.end()))
        start += len(clause) + len(" | ")
    return spans


def as_a_thing(text: str, words: Lexicon) -> list[Span]:
    """A stop word used as a noun for something else ("un petit stop pour régler")."""
    return [
        found.span()
        for found in words.pattern("stop_as_thing").finditer(text)
        if not _messages_after(text, found.end(), words)
    ]


def _negated_wish(before: list[str], words: Lexicon) -> bool:
    """Whether the words before a stop word end with a wish or a sending the customer negates
    ("je ne veux surtout pas me", "I never sent", "no quiero darme de"): only small words
    (``stop_filler``) between the verb and the stop word, and the negator next to the verb,
    adverbs and auxiliaries aside. A subject between ("no I want you to stop") or the customer
    as the one written to ("faut pas m'écrire stop") is another sentence run on. A clause may
    also open with the negator alone (``stop_negator_opening``: "Pas désabonner, juste fauché")."""
    if len(before) == 1 and words.pattern("stop_negator_opening").fullmatch(before[0]):
        return True  # "Pas désabonner, juste fauché", "Not opting out though"
    negated = False
    for index in range(len(before) - 1, max(len(before) - _REACH, 0) - 1, -1):
        token = before[index]
        if words.pattern("stop_negator").fullmatch(token):
            negated = True
        elif _wish(token, words):
            return negated or _negator_before(before[:index], words)
        elif words.pattern("stop_adverb").fullmatch(token) and negated:
            continue
        elif not words.pattern("stop_filler").fullmatch(token):
            return False
    return False


def _wish(token: str, words: Lexicon) -> bool:
    return bool(
        words.pattern("stop_wish").fullmatch(token) or words.pattern("stop_send").fullmatch(token)
    )


def _negator_before(before: list[str], words: Lexicon) -> bool:
    """A negator just before the verb, adverbs and auxiliaries aside ("n'ai jamais")."""
    for token in reversed(before[-3:]):
        if words.pattern("stop_negator").fullmatch(token):
            return True
        if not words.pattern("stop_adverb").fullmatch(token):
            return False
    return False


def _messages_after(text: str, end: int, words: Lexicon) -> bool:
    messages = words.pattern("concept_messages")
    following = text[end:].split(" | ", 1)[0].split()[:_MESSAGES_REACH]
    return any(messages.fullmatch(word) for word in following)
