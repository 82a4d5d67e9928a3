"""Typo tolerance: correct a misspelt word to a known one, for messages nobody could read.

Normalisation (`flows.intent_text`) already removes accents, repeated letters and the usual
SMS spellings; what is left are one-key slips: "notifcations", "virment", "instalmets",
"recieved", "plusieur". The vocabulary (`flows/lexicon/vocabulary.txt`, words and counts,
rebuilt from the tuning corpus by ``python -m tests.intents.build_vocabulary``; a word seen
only once has count 0: known, never corrected, but never a target either) is indexed by
its one-letter deletions (symmetric delete), so finding the words one edit away (a letter
missing, added, changed, or two letters swapped) costs a few dictionary look-ups per word.

Only words of `MIN_LENGTH`+ letters that the vocabulary does not know are touched, and only
when a known word is one edit away; the most frequent candidate wins (ties: alphabetical), so
the correction is deterministic. `flows.intents` uses it only for a message it otherwise reads
as unknown (or as a plain no), and gates what a corrected reading may decide.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from flows.intent_calendar import WEEKDAYS

VOCABULARY = Path(__file__).with_name("lexicon") / "vocabulary.txt"
#: Shorter words have too many neighbours one edit away ("fau": faux, eau, peu...).
MIN_LENGTH = 5


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    counts: Mapping[str, int]
    languages: Mapping[str, frozenset[str]]
    index: Mapping[str, tuple[str, ...]]  # one-letter deletion -> words


@functools.cache
def _vocabulary(path: Path = VOCABULARY) -> _Vocabulary:
    counts: dict[str, int] = {}
    languages: dict[str, frozenset[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, count, langs = line.split()
            counts[word] = int(count)
            languages[word] = frozenset(langs.split(","))
    index: dict[str, list[str]] = {}
    for word in counts:
        for key in _deletes(word):
            index.setdefault(key, []).append(word)
    frozen = {key: tuple(words) for key, words in index.items()}
    return _Vocabulary(
        MappingProxyType(counts), MappingProxyType(languages), MappingProxyType(frozen)
    )


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def one_edit(a: str, b: str) -> bool:
    """Damerau distance exactly 1 (substitution, insertion, deletion, adjacent swap)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i, j = diff[0], diff[-1]
        return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@functools.lru_cache(maxsize=16384)  # pure: the same word, the same answer
def correct_word(word: str, language: str) -> str:
    """The known *language* word one edit away from *word* (most frequent), or *word*."""
    vocabulary = _vocabulary()
    counts, index = vocabulary.counts, vocabulary.index
    if len(word) < MIN_LENGTH or word in counts or not word.isalpha():
        return word
    candidates: set[str] = set(index.get(word, ()))  # a letter too many
    for key in _deletes(word):
        if key in counts:
            candidates.add(key)
        candidates.update(index.get(key, ()))
    found = [
        c
        for c in candidates
        if counts[c] > 0 and language in vocabulary.languages[c] and one_edit(word, c)
    ]
    if not found:
        return word
    return min(found, key=lambda c: (-counts[c], c))


def correct(text: str, language: str) -> str:
    """*text* (normalised, in *language*) with each misspelt word corrected; clauses kept."""
    return " ".join(correct_word(word, language) for word in text.split(" "))


#: Day names long enough to correct: a slip in a short one ("mardi", "jeudi") lands on too
#: many other words, and `correct` handles those in messages read as nothing.
_LONG_DAYS = tuple(day for day in WEEKDAYS if len(day) >= 6)


@functools.lru_cache(maxsize=4096)
def correct_day(word: str) -> str:
    """The day name *word* misspells ("thrusday", "vendedi", "tuesdy"; two slips in a long
    one: "wensday"), or *word*. Read in every message, not only in one read as nothing: a
    misspelt day beside "ok" or "I'll pay" is still the day promised."""
    if word[:-1] in WEEKDAYS and word[-1] == word[-2]:
        return word[:-1]  # "jeudii", "lundii": a key held down
    if word.endswith("dy") and word[:-1] + "i" in _FRENCH_DAYS and word not in _ENGLISH_WORDS:
        return word[:-1] + "i"  # "jeudy", "samedy": the final "i" written as it sounds
    if len(word) == MIN_LENGTH and word.isalpha() and word not in _vocabulary().counts:
        return _short_slip(word)
    if len(word) == MIN_LENGTH - 1 and word.endswith("di") and word not in _vocabulary().counts:
        # "jedi", "madi": a short French day with a letter missing, a word no message used.
        return next((day for day in _SHORT_FRENCH_DAYS if one_edit(word, day)), word)
    if len(word) < MIN_LENGTH + 1 or word in WEEKDAYS or not word.isalpha():
        return word
    for day in _LONG_DAYS:
        if word == day + "s":
            return word  # "mondays are hard", "les samedis": a habit, no day promised
        if one_edit(word, day) or (len(word) >= 7 and len(day) >= 8 and _two_edits(word, day)):
            return day
    return word


def _short_slip(word: str) -> str:
    """A five-letter word no message used before that is a day with two letters swapped
    ("jeuid") or a letter missing ("samdi", "frday"), or *word*: slips that keep every letter
    of the day, which a word of another meaning rarely does."""
    for day in WEEKDAYS:
        swapped = len(day) == len(word) and one_edit(word, day) and sorted(word) == sorted(day)
        missing = day not in _NO_SHORTENING and len(day) == len(word) + 1 and one_edit(word, day)
        if swapped or missing or _next_key(word, day):
            return day
    return word


#: Letters side by side on a keyboard (AZERTY and QWERTY rows): "lindi" is "lundi" typed
#: with the finger one key off.
_ROWS = ("azertyuiop", "qsdfghjklm", "wxcvbn", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS = frozenset(
    pair for row in _ROWS for a, b in itertools.pairwise(row) for pair in ((a, b), (b, a))
)


def _next_key(word: str, day: str) -> bool:
    """*word* is a short French day ("lundi", "mardi", "jeudi") with one letter typed on the
    key beside it. Only those: in English and Spanish such a slip lands on real words ("lines"
    for "lunes")."""
    if len(word) != len(day) or not day.endswith("di"):
        return False
    slips = [(a, b) for a, b in zip(word, day, strict=True) if a != b]
    return len(slips) == 1 and slips[0] in _NEIGHBOURS


_SHORT_FRENCH_DAYS = ("lundi", "mardi", "jeudi")
_FRENCH_DAYS = frozenset({"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"})
#: English words a French day written with a final "y" would be ("been mardy all week").
_ENGLISH_WORDS = frozenset({"mardy"})

#: Days a letter short of an everyday word ("martes" / "mates"): never read from a shorter one.
_NO_SHORTENING = frozenset({"martes", "jueves", "viernes", "sabado", "domingo"})


def correct_days(text: str) -> str:
    """*text* (normalised) with each misspelt day name corrected; clauses kept. Not a name
    after a title ("Mme Jeudy")."""
    words = text.split(" ")
    return " ".join(
        word if _named(words, i) else correct_day(word) for i, word in enumerate(words)
    )


def _named(words: list[str], i: int) -> bool:
    """Whether the word at *i* follows a title ("Mme Jeudy", "M. Mardy"): a name."""
    before = [w for w in words[max(0, i - 2) : i] if w != "|"]
    return bool(before) and before[-1] in _TITLES


_TITLES = frozenset(
    {"m", "mr", "mme", "mlle", "madame", "monsieur", "mrs", "ms", "miss", "sr", "sra"}
)


def _two_edits(a: str, b: str) -> bool:
    """Damerau distance exactly 2, for words that are not one edit apart."""
    if abs(len(a) - len(b)) > 2:
        return False
    return any(one_edit(middle, b) for middle in _one_edit_away(a))


def _one_edit_away(word: str) -> set[str]:
    letters = set(word) | set("abcdefghijklmnopqrstuvwxyz")
    deletes = _deletes(word)
    swaps = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    changes = {word[:i] + c + word[i + 1 :] for i in range(len(word)) for c in letters}
    inserts = {word[:i] + c + word[i:] for i in range(len(word) + 1) for c in letters}
    return deletes | swaps | changes | inserts
