"""Keyword rules for the intents that are not a payment decision.

Each rule is a compiled regex over normalised text (see `flows.intent_text`); its words are the
``rule_*`` categories of `flows/lexicon/*.toml` (`rules`). The order in which `flows.intents`
consults them is the precedence; it is documented there, not here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from flows.intent_lexicon import NEGATORS
from flows.intent_words import lexicon


def _words(*alternatives: str) -> re.Pattern[str]:
    # "(?=[a-z0-9])": only word starts are tried, not word ends (a third faster, same matches).
    return re.compile(r"\b(?=[a-z0-9])(?:" + "|".join(alternatives) + r")\b")


_POLITE = (
    r"(?:s il vous plait|s il te plait|please|merci|thanks|thank you|sms|messages?|texts?|now|"
    r"maintenant|immediatement|all|tout|por favor|ok)"
)

# --- OPT_OUT -----------------------------------------------------------------------------
# Legal: STOP must never be missed (LEGAL_FR 2.2, PROVIDERS T13/T14, TESTCASES 38). "stop" is an
# opt-out anywhere in a message: a false opt-out costs one confirmation message, a missed one
# costs a CNIL complaint. CANCEL / END / QUIT / REVOKE (Twilio's English keywords) are opt-outs
# only as the whole message (optionally with "please", "sms"...): inside a sentence "cancel my
# order" is a dispute and "end of the month" is a date.
#: Checked against each clause: a concatenated SMS ("Payer plus tard" + "CANCEL") arrives as one
#: text with the keyword alone in its own clause.
OPT_OUT_WHOLE = re.compile(
    rf"^(?:(?:{_POLITE}|oui|yes|non|no|bon|alors|donc) )*(?:cancel|end|quit|revoke|optout|"
    rf"stopall|st[o0]pp?|stahp|arret|arrete|arretez|arreter|arrett|baja)(?: {_POLITE})*$"
)

# --- OPT_IN ------------------------------------------------------------------------------
OPT_IN_WHOLE = re.compile(
    rf"^(?:(?:yes|oui|ok) )?(?:start|unstop|restart|resume|subscribe|resubscribe|"
    rf"reabonner|reprendre|reprise)(?: (?:again|sms|messages|emojiyes|emojismile|{_POLITE}))*$"
)


@dataclass(frozen=True, slots=True)
class Rules:
    """The keyword rules, one word-bounded regex each, read from the ``rule_*`` categories of
    `flows/lexicon/*.toml` (`flows.intent_words`)."""

    opt_out: re.Pattern[str]
    opt_in: re.Pattern[str]
    dispute: re.Pattern[str]
    #: Dispute words that a preceding negation cancels ("je ne conteste pas la facture, mais...").
    dispute_negatable: re.Pattern[str]
    already_paid: re.Pattern[str]
    ask_agent: re.Pattern[str]
    status: re.Pattern[str]
    help_problem: re.Pattern[str]
    help: re.Pattern[str]
    no: re.Pattern[str]
    yes: re.Pattern[str]
    smalltalk: re.Pattern[str]


@functools.cache
def rules() -> Rules:
    """The rules, compiled on first use (no import-time I/O) and shared afterwards."""
    words = lexicon()

    def with_tokens(category: str, *tokens: str) -> re.Pattern[str]:
        # The normaliser's emoji tokens (`flows.intent_text`) belong to no language.
        return _words(*words.fragments(category), *tokens)

    return Rules(
        opt_out=words.pattern("rule_opt_out"),
        opt_in=words.pattern("rule_opt_in"),
        dispute=words.pattern("rule_dispute"),
        dispute_negatable=words.pattern("rule_dispute_negatable"),
        already_paid=words.pattern("rule_already_paid"),
        ask_agent=words.pattern("rule_ask_agent"),
        status=words.pattern("rule_status"),
        help_problem=words.pattern("rule_help_problem"),
        help=words.pattern("rule_help"),
        no=with_tokens("rule_no", "emojino"),
        yes=with_tokens("rule_yes", "emojiyes"),
        smalltalk=with_tokens("rule_smalltalk", "emojismile"),
    )


_AFTER_NEGATORS = frozenset({"pas", "plus", "jamais", "rien", "not", "yet"})
#: Subjects a match may open with ("j'ai payé", "I paid").
_SUBJECTS = frozenset({"je", "j", "on", "nous", "i", "we", "yo"})
#: Words before a subject that still belong to its verb: what follows is asked ("c'est pas que
#: je conteste"), or negated first ("jamais j'ai payé ça").
_THAT = frozenset({"que", "qu", "that", "si", "if", "whether", "como", "jamais", "never"})


def is_negated(text: str, start: int, end: int) -> bool:
    """Whether the match at ``text[start:end]`` is negated.

    True when a negator is among the three words before it or inside it ("j'ai pas payé"), or
    when a French "ne" before it is closed by "pas"/"plus"/"jamais" after it ("je ne conteste
    pas").
    """
    before = text[:start].rsplit("|", 1)[-1].split()[-3:]
    inside = text[start:end].split()
    if inside and inside[0] in _SUBJECTS and before and before[-1] not in _THAT:
        # "je comprends pas j'ai payé": a negator before the subject is another verb's ("c'est
        # pas que je conteste" still denies it).
        before = []
    if any(word in NEGATORS for word in (*before, *inside)):
        return True
    # "je ne conteste absolument pas": an adverb may sit between the verb and "pas".
    after = [w for w in text[end:].split(maxsplit=3)[:3] if w not in _INTENSIFIERS][:1]
    closes = bool(after) and after[0] in _AFTER_NEGATORS
    return closes and any(word in ("ne", "n") for word in (*before, *inside))


_INTENSIFIERS = frozenset(
    {"absolument", "vraiment", "nullement", "aucunement", "evidemment", "bien", "surement"}
)
