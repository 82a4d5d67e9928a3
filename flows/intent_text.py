"""Text normalisation for the intent recognizer: turn a raw SMS/Telegram reply into clauses.

Customers write "Ouiii 👍", "jpeux pas payer mtn, plustard stp", "C'EST PAYÉ !!!". Every rule
in `flows.intents` is written against one canonical form so that it does not have to care:

- emoji that carry meaning become words (👍 → ``emojiyes``, 👎 → ``emojino``, 😊 → ``emojismile``,
  💳 → ``emojipay``, 🛑 → ``stop``); other emoji, symbols and non-Latin scripts are dropped;
- lower case, accents stripped (NFKD then ASCII), œ/æ/ß spelled out;
- English "n't" glued ("don't" → ``dont``) before other apostrophes become spaces
  ("j'ai" → ``j ai``);
- runs of 3+ identical letters collapsed ("ouiiii" → ``oui``, "stooop" → ``stop``);
- SMS abbreviations and frequent typos expanded token by token ("jpeux" → ``je peux``,
  "plustard" → ``plus tard``, "paiment" → ``paiement``, "tmrw" → ``tomorrow``);
- punctuation splits the message into clauses (a negation never reaches across a comma);
  numeric dates ("3/12", "03.12.2026") survive as one token.

Everything here is pure and linear in the (capped) input size.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flows.intent_lexicon import ABBREVIATIONS

#: Work is capped so that a hostile text costs at most a few milliseconds. No real message is cut:
#: Twilio SMS bodies are at most 1,600 characters and Telegram messages 4,096.
MAX_CHARS = 4096

_YES_EMOJI = "👍👌✅🆗✔☑🤝💯"
_NO_EMOJI = "👎❌🚫🙅⛔✖"
#: A card: the customer reaching for it ("💳💳 go", "🤑💳").
_PAY_EMOJI = "💳"
#: An eye-roll or an unamused face: what the words say is meant the other way round (🙃 is
#: left out: as often a shrug as sarcasm).
_IRONIC_EMOJI = frozenset("🙄😒")
_SMILE_EMOJI = "😊🙂😀😃😄😁☺🥰😍❤♥💙💚💛💜🧡😘🤗👋🌞☀🙏✨🌸🌹😉🤩"

# str.translate table: emoji with meaning → words, typographic marks → ASCII equivalents.
# Dashes and ellipses become clause separators; NFKD would otherwise drop them and glue words.
_PRE_TABLE: dict[int, str] = {
    **{ord(c): " emojiyes " for c in _YES_EMOJI},
    **{ord(c): " emojino " for c in _NO_EMOJI},
    **{ord(c): " emojismile " for c in _SMILE_EMOJI},
    **{ord(c): " emojipay " for c in _PAY_EMOJI},
    ord("🛑"): " stop ",
    ord("’"): "'",
    ord("‘"): "'",
    ord("`"): "'",
    ord("´"): "'",
    ord("ʼ"): "'",
    ord("œ"): "oe",
    ord("Œ"): "oe",
    ord("æ"): "ae",
    ord("Æ"): "ae",
    ord("ß"): "ss",
    ord("–"): " , ",
    ord("—"): " , ",
    ord("…"): " . ",
    ord("¿"): " ? ",
    ord("¡"): " ! ",
}

_NT = re.compile(r"n't\b")
_REPEATS = re.compile(r"([a-z])\1{2,}")
#: "kkkkkkkk" is laughter (or a thumb on one key), not "k" for "ok": squeezed, it would say yes.
_K_RUN = re.compile(r"\bk{4,}\b")
# A numeric date ("3/12", "03.12.2026", "2026-12-03") is one token; otherwise words, numbers,
# and clause punctuation. Everything else (quotes, symbols, "+", "€") is a plain separator.
_TOKEN = re.compile(r"\d{1,4}(?:[/.\-]\d{1,4}){1,2}(?![\d/])|[a-z0-9]+|[,;.!?:\n()\[\]|]")
_SEPARATORS = frozenset(",;.!?:\n()[]|")
_ACCENTED_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Normalized:
    """A message in canonical form.

    ``clauses`` are single-space-joined token strings, never empty; ``text`` joins them with
    `` | `` so that multi-word patterns never match across a clause boundary.
    """

    clauses: tuple[str, ...]
    text: str
    question_only: bool
    asks: bool = False  # a "?" somewhere
    #: "??", "?!", "!!": outrage (or insistence) in the punctuation, which the words lose.
    outraged: bool = False
    #: An eye-roll (🙄, 😒): the praise beside it is sarcasm ("ça vaut clairement 55€ 🙄").
    ironic: bool = False
    #: Lower-case words with their accents ("payé" is not "paye"), for the few readings
    #: that need them; punctuation and emoji dropped.
    accented: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.clauses


def fold(text: str) -> str:
    """Lower-case ASCII form of *text*: emoji words in, accents and symbols out."""
    text = text[:MAX_CHARS].translate(_PRE_TABLE).casefold()
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _NT.sub("nt", text).replace("'", " ")
    return _REPEATS.sub(r"\1", _K_RUN.sub(" ", text))


#: "85,80 €": a decimal comma does not end a clause; the cents are dropped (amounts are only
#: compared loosely, and "85.80" would read as a date).
_DECIMAL_COMMA = re.compile(r"\b(\d{1,7}),\d{2}\b(?![,.]?\d)")
# "November 17, 2026": that comma belongs to the date, it does not end a clause.
_DATE_COMMA = re.compile(r"\b(\d{1,2}(?:st|nd|rd|th|er)?) ?, ?(\d{4})\b")


def normalize(text: str) -> Normalized:
    """Canonical clauses of *text* (see the module docstring for what changes)."""
    folded = _DECIMAL_COMMA.sub(r"\1", _DATE_COMMA.sub(r"\1 \2", fold(text)))
    clauses: list[str] = []
    current: list[str] = []
    saw_question = False
    separator = ""
    for word in _TOKEN.findall(folded):
        if word in _SEPARATORS:
            saw_question = saw_question or word == "?"
            if word == "?":
                _drop_tag(current, clauses, separator)
            _flush(current, clauses)
            separator = word
            continue
        expansion = ABBREVIATIONS.get(word)
        if expansion is None:
            current.append(word)
        else:
            current.extend(expansion.split())
    _flush(current, clauses)
    joined = " | ".join(clauses)
    accented = " ".join(_ACCENTED_WORD.findall(text[:MAX_CHARS].casefold()))
    return Normalized(
        tuple(clauses),
        joined,
        question_only=saw_question and not clauses,
        asks=saw_question,
        accented=accented,
        outraged=_OUTRAGE.search(text[:MAX_CHARS]) is not None,
        ironic=not _IRONIC_EMOJI.isdisjoint(text[:MAX_CHARS]),
    )


_OUTRAGE = re.compile(r"[?!]\s*[?!]")


#: "c'est fait en 2 min, non ?", "puedo pagar el viernes, no?": a statement that asks to be
#: confirmed; the "non" asks, it refuses nothing.
_TAGS = frozenset({"non", "no"})
_TAGGED_MIN_WORDS = 3


def _drop_tag(current: list[str], clauses: list[str], separator: str) -> None:
    """Drop a tag question's "non" / "no" closing a statement (`_TAGS`)."""
    if len(current) >= _TAGGED_MIN_WORDS and current[-1] in _TAGS:
        current.pop()
    elif (
        len(current) == 1
        and current[0] in _TAGS
        and separator == ","
        and clauses
        and len(clauses[-1].split()) >= _TAGGED_MIN_WORDS - 1
    ):
        current.clear()


def _flush(current: list[str], clauses: list[str]) -> None:
    if current:
        clauses.append(" ".join(_je_elided(current)))
        current.clear()


#: Pronouns after which a lone "j" is "je" ("j'vous paye samedi", "j'te rappelle"): never
#: "j'ai", whose "ai" is not among them.
_AFTER_JE = frozenset({"vous", "te", "t", "le", "la", "les", "lui", "leur", "me", "m"})


def _je_elided(words: list[str]) -> list[str]:
    return [
        "je" if word == "j" and i + 1 < len(words) and words[i + 1] in _AFTER_JE else word
        for i, word in enumerate(words)
    ]
