"""Where a stop word stands in a sentence: wanted, asked about, or a thing (issue 11).

A stop word (``stop_word``: "stop", "arrêter", "désinscrire", "unsubscribe", "parar"...) inside a
sentence asks to stop our messages only when nothing around it says otherwise. The phrasings of
the lexicon's ``opt_out_defused`` and ``opt_out_maybe`` catch the turns customers use most; this
module reads the words around each stop word instead, so that a new phrasing of the same shape
is read alike:

- **not wanted**: a negator next to a verb of wanting, asking or sending (``stop_negator``,
  ``stop_wish``, ``stop_send``; adverbs and auxiliaries aside, ``stop_adverb``) and only small
  words (``stop_filler``) up to the stop word: "je ne veux surtout pas me désinscrire", "I
  never sent STOP", "not asking you to stop the messages", "no quiero darme de baja". Not when
  the wish is asked of us (``stop_you``: "tu veux pas arrêter ?", "ça vous dit pas de me
  désinscrire ?") or put as a question about our messages (``stop_wish_asked``,
  ``stop_messaging``: "faudrait pas arrêter de m'envoyer des sms ?"): requests. Without such a
  verb ("vous n'arrêtez pas de m'écrire") a negation is a complaint, left to the phrasings.
  Two sentences run on are not one negated wish: a sending to the customer (``stop_recipient``:
  "do not write to me stop"), a wish of the bare keyword (``stop_keyword``: "nobody asked
  stop"), an order to us (``stop_imperative``: "no lo pedí dejen de escribirme"), a question
  asked back (``stop_asked_back``: "have I not asked you to stop"). A clause may open with the
  negator (``stop_negator_opening``: "Pas désabonner, juste fauché");
- **asked about**: the keyword after a condition on sending it (``stop_send_if``: "si je
  réponds STOP…", "before I text STOP…"), or after a verb of sending in the infinitive
  (``stop_send_asked``) in a question of cost or meaning (``stop_asked`` with a "?", or
  ``stop_asked_question``): "Envoyer STOP ça coûte combien ?", "does texting STOP cost
  anything?". Not when the clause says it was sent already or again (``stop_already_sent``:
  "j'ai envoyé STOP, combien de fois faut-il le faire ?"). The bot answers the rest and asks
  the one-line confirmation;
- **a thing**: the word as a noun with a qualifier or in a compound (``stop_as_thing``: "un
  petit stop pour régler", "un arrêt d'urgence", "an emergency stop valve"), when no messages
  are named in the words after it. "un STOP svp" is the keyword.

Every rule here was reviewed against real opt-outs written for the purpose (docs/decisions.md,
"Where a stop word stands").
"""

from __future__ import annotations

from flows.intent_words import Lexicon

Span = tuple[int, int]

#: How far back a negator may stand from the stop word ("je ne veux surtout pas me désinscrire").
_REACH = 6
#: How far after a stop word the messages may be named ("un arrêt d'urgence de vos messages").
_MESSAGES_REACH = 5


def not_wanted(text: str, words: Lexicon, *, asks: bool = False) -> list[Span]:
    """Stop words under a negated wish or sending ("je ne veux pas me désabonner"); not one
    asked of us in a question ("tu veux pas arrêter de m'écrire ?": a request)."""
    spans: list[Span] = []
    for found in words.pattern("stop_word").finditer(text):
        before = text[: found.start()].rsplit(" | ", 1)[-1].split()
        if len(before) == 1 and words.pattern("stop_negator_opening").fullmatch(before[0]):
            # "Pas désabonner, juste fauché"; not "pas stop les relances svp arrêtez", nor a
            # past participle ("pas désinscrit, je reçois toujours": a complaint).
            if words.pattern("stop_infinitive").fullmatch(found.group()) and not _messages_after(
                text, found.end(), words
            ):
                spans.append(found.span())
            continue
        wish = _negated_wish(before, words)
        if (
            wish is None
            or _asked_of_us(before, wish, words)
            or not _said_of(before, wish, found.group(), words)
        ):
            continue
        if not (asks and _messages_after(text, found.end(), words)):
            spans.append(found.span())
    return spans


def _asked_of_us(before: list[str], wish: int, words: Lexicon) -> bool:
    """A negated wish that asks something of us: "tu veux pas arrêter ?", "ça vous dit pas de
    me désinscrire ?", "faudrait pas arrêter vos sms", "have I not asked you to stop"."""
    return (
        _you_before(before[:wish], words)
        or words.pattern("stop_wish_asked").fullmatch(before[wish]) is not None
        or words.pattern("stop_asked_back").search(" ".join(before[: wish + 1])) is not None
    )


def _said_of(before: list[str], wish: int, stop: str, words: Lexicon) -> bool:
    """Whether the stop word is what the verb is about: a sending names the keyword, not the
    customer written to ("do not write to me stop": two sentences run on); a wish is of a verb
    ("no quiero parar", "je ne veux pas arrêter", "I don't want to stop"), not of the bare
    keyword just after it ("nobody asked stop", "jamais souhaité stop": two sentences)."""
    between = before[wish + 1 :]
    if words.pattern("stop_imperative").fullmatch(stop):
        return False
    if words.pattern("stop_send").fullmatch(before[wish]):
        return not any(words.pattern("stop_recipient").fullmatch(token) for token in between)
    return bool(between) or not words.pattern("stop_keyword").fullmatch(stop)


def asked_about(text: str, words: Lexicon, *, asks: bool = False) -> list[Span]:
    """The keyword as the thing one would send, asked about: after "si je réponds", or after a
    verb of sending in the infinitive in a question of cost or meaning ("Envoyer STOP ça coûte
    combien ?"). Not one sent already or again and again ("j'ai envoyé STOP, combien de fois
    faut-il le faire ?"), nor one sent now ("je réponds STOP si ça coûte rien")."""
    spans: list[Span] = []
    start = 0
    for clause in text.split(" | "):
        if not words.pattern("stop_already_sent").search(clause):
            spans += [
                (start + found.start(), start + found.end())
                for found in words.pattern("stop_word").finditer(clause)
                if _asked(clause, found.start(), words, asks=asks)
            ]
        start += len(clause) + len(" | ")
    return spans


def _asked(clause: str, at: int, words: Lexicon, *, asks: bool) -> bool:
    before = clause[:at].rstrip()
    if any(m.end() == len(before) for m in words.pattern("stop_send_if").finditer(before)):
        return True
    last = before.split()[-1:]
    return bool(
        (asks or words.pattern("stop_asked_question").search(clause))
        and last
        and words.pattern("stop_send_asked").fullmatch(last[0])
        and words.pattern("stop_asked").search(clause)
    )


def as_a_thing(text: str, words: Lexicon) -> list[Span]:
    """A stop word used as a noun for something else ("un petit stop pour régler")."""
    return [
        found.span()
        for found in words.pattern("stop_as_thing").finditer(text)
        if not _messages_after(text, found.end(), words)
    ]


def _negated_wish(before: list[str], words: Lexicon) -> int | None:
    """Where the words before a stop word hold a wish or a sending the customer negates ("je ne
    veux surtout pas me", "I never sent", "no quiero darme de"), else None: only small words
    (``stop_filler``) between the verb and the stop word, and the negator next to the verb,
    adverbs and auxiliaries aside. A subject between ("no I want you to stop") or the customer
    as the one written to ("faut pas m'écrire stop") is another sentence run on."""
    negated = False
    for index in range(len(before) - 1, max(len(before) - _REACH, 0) - 1, -1):
        token = before[index]
        if words.pattern("stop_negator").fullmatch(token):
            negated = True
        elif _wish(token, words):
            return index if negated or _negator_before(before[:index], words) else None
        elif words.pattern("stop_adverb").fullmatch(token) and negated:
            continue
        elif not words.pattern("stop_filler").fullmatch(token):
            return None
    return None


def _you_before(before: list[str], words: Lexicon) -> bool:
    """Whether the negated wish is the reader's ("tu veux pas arrêter ?", "ça vous dit pas de
    me désinscrire ?": a request put as a question) or a thing's ("votre système ne veut pas
    me désinscrire", ``stop_not_me``: a complaint), not the customer's stop unwanted."""
    subject = [token for token in before[-3:] if not _negation_word(token, words)][-1:]
    return bool(subject) and (
        words.pattern("stop_you").fullmatch(subject[0]) is not None
        or words.pattern("stop_not_me").fullmatch(subject[0]) is not None
    )


def _negation_word(token: str, words: Lexicon) -> bool:
    """A negator, or an adverb or auxiliary beside one (``stop_adverb`` holds "ne")."""
    return bool(
        words.pattern("stop_negator").fullmatch(token)
        or words.pattern("stop_adverb").fullmatch(token)
    )


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
    """Whether our messages, or our writing to the customer, are named in the words after."""
    messages = words.pattern("concept_messages")
    following = text[end:].split(" | ", 1)[0].split()[:_MESSAGES_REACH]
    return any(messages.fullmatch(word) for word in following) or bool(
        words.pattern("stop_messaging").search(" ".join(following))
    )
