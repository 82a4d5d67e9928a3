"""Word tables for the intent recognizer (French first, English complete, some Spanish).

Every pattern here runs on text already passed through `flows.intent_text.normalize`: lower-case
ASCII, accents stripped, one space between tokens, clauses joined by `` | ``. Patterns use literal
spaces, so a multi-word pattern never matches across a clause boundary.

The tables are immutable (frozensets, mappings read only, compiled regexes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType


def _words(*alternatives: str) -> re.Pattern[str]:
    """One compiled alternation, anchored on word boundaries."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


#: SMS abbreviations and frequent typos, token → replacement words. Applied to single tokens only,
#: so "stp" (s'il te plaît) is never confused with "stop".
ABBREVIATIONS: Mapping[str, str] = MappingProxyType({
    # French
    "stp": "s il te plait", "stpp": "s il te plait", "svp": "s il vous plait",
    "svpp": "s il vous plait", "silvousplait": "s il vous plait", "steuplait": "s il te plait",
    "jpeux": "je peux", "jpx": "je peux", "jpeu": "je peux", "jpourrai": "je pourrai",
    "jpourrais": "je pourrais", "jsp": "je sais pas", "jsais": "je sais", "chai": "je sais",
    "chuis": "je suis", "jsuis": "je suis", "jss": "je suis", "jveux": "je veux", "jvx": "je veux",
    "jvoudrais": "je voudrais", "jvais": "je vais", "jvai": "je vais", "jv": "je vais",
    "jpaie": "je paie", "jpaye": "je paye", "jpaierai": "je paierai", "jai": "j ai", "g": "j ai",
    "jme": "je me", "jle": "je le", "jlai": "je l ai", "jlui": "je lui",
    "jcomprends": "je comprends",
    "jcomprend": "je comprends", "comprend": "comprends", "tkt": "t inquiete",
    "tinquiete": "t inquiete", "pk": "pourquoi", "pq": "pourquoi", "pkoi": "pourquoi",
    "pcq": "parce que", "pck": "parce que", "psk": "parce que", "pr": "pour", "ds": "dans",
    "dc": "donc", "bcp": "beaucoup", "tt": "tout", "tjr": "toujours", "tjrs": "toujours",
    "mtn": "maintenant", "mnt": "maintenant", "mntn": "maintenant", "maintenan": "maintenant",
    "maitenant": "maintenant", "maintenat": "maintenant", "maintnant": "maintenant",
    "maintenent": "maintenant", "dmain": "demain", "dm1": "demain", "2m1": "demain",
    "auj": "aujourd hui", "ajd": "aujourd hui", "aujd": "aujourd hui", "ojd": "aujourd hui",
    "aujourdhui": "aujourd hui", "bjr": "bonjour", "bjour": "bonjour", "bsr": "bonsoir",
    "slt": "salut", "cc": "coucou", "mrc": "merci", "mci": "merci", "mrci": "merci",
    "mercii": "merci", "dac": "d accord", "dak": "d accord", "dacc": "d accord",
    "daccord": "d accord", "dacor": "d accord", "dacord": "d accord", "ouii": "oui", "wi": "oui",
    "ui": "oui", "ouai": "ouais", "oue": "ouais", "ouep": "ouais", "ouaip": "ouais",
    "nn": "non", "nan": "non", "nonn": "non", "plustard": "plus tard", "plutard": "plus tard",
    "plutar": "plus tard", "plustar": "plus tard", "paiment": "paiement",
    "payement": "paiement", "paiemant": "paiement", "paimant": "paiement", "paimen": "paiement",
    "paiemnt": "paiement", "paiments": "paiements", "payements": "paiements",
    "qqn": "quelqu un", "qq1": "quelqu un", "qlq1": "quelqu un", "quelquun": "quelqu un",
    "qlqn": "quelqu un", "kelkun": "quelqu un", "cmb": "combien", "cbn": "combien",
    "cb1": "combien", "koi": "quoi", "kwa": "quoi", "ke": "que", "ki": "qui", "kan": "quand",
    "qd": "quand", "qnd": "quand", "msg": "message", "msgs": "messages", "cest": "c est",
    "vs": "vous", "ns": "nous", "jamai": "jamais", "jms": "jamais", "dja": "deja",
    "conseiler": "conseiller", "troi": "trois", "troix": "trois",
    "quatres": "quatre", "aret": "arret", "arette": "arrete", "arrette": "arrete",
    "foi": "fois", "fwa": "fois", "paier": "payer", "payr": "payer", "jdois": "je dois",
    "jdoi": "je dois", "pb": "probleme", "pbm": "probleme", "ptdr": "mdr", "cad": "c est a dire",
    "vrmt": "vraiment", "vrm": "vraiment", "tj": "toujours", "fds": "fin de semaine",
    "weekend": "week end", "rdv": "rendez vous", "ac": "avec", "avc": "avec",
    "pa": "pas", "pasmaintenant": "pas maintenant",
    # English
    "u": "you", "ur": "your", "r": "are", "pls": "please", "plz": "please", "plse": "please",
    "pleas": "please", "thx": "thanks", "thanx": "thanks", "thnx": "thanks", "tks": "thanks",
    "tnx": "thanks", "thnks": "thanks", "ty": "thank you", "tyvm": "thank you",
    "thankyou": "thank you", "idk": "i dont know", "dunno": "dont know", "wanna": "want to",
    "gonna": "going to", "gotta": "got to", "lemme": "let me", "gimme": "give me", "im": "i m",
    "ive": "i ve", "youre": "you re", "thats": "that s", "whats": "what s", "its": "it s",
    "cannot": "cant", "tmrw": "tomorrow", "tmr": "tomorrow", "tmrow": "tomorrow",
    "tomoz": "tomorrow", "2moro": "tomorrow", "2morrow": "tomorrow", "tomorow": "tomorrow",
    "tommorow": "tomorrow", "tommorrow": "tomorrow", "tomorro": "tomorrow", "2day": "today",
    "tonite": "tonight", "2nite": "tonight", "2night": "tonight", "nxt": "next", "wk": "week",
    "wks": "weeks", "mth": "month", "mnth": "month", "b4": "before", "rn": "right now",
    "pmt": "payment", "pymt": "payment", "paymnt": "payment", "paymt": "payment",
    "yess": "yes", "yea": "yeah", "yeh": "yeah", "yh": "yeah", "ye": "yeah", "naw": "nah",
    "noo": "no", "nop": "nope", "k": "ok", "kk": "ok", "okk": "ok", "oki": "ok", "okay": "ok",
    "okey": "ok", "okie": "ok", "oke": "ok", "okok": "ok ok", "bc": "because", "cuz": "because",
    "coz": "because", "hv": "have", "hav": "have", "alr": "already", "alrdy": "already",
    "allready": "already", "alredy": "already", "sry": "sorry", "srry": "sorry", "soz": "sorry",
    "wat": "what", "wut": "what", "hw": "how", "amt": "amount", "acct": "account",
    "instalments": "installments", "instalment": "installment", "installements": "installments",
    "installement": "installment", "unsub": "unsubscribe", "txt": "text", "txts": "texts",
    "outta": "out of", "gud": "good", "cud": "could", "wud": "would", "abt": "about",
    # Spanish
    "q": "que", "xq": "porque", "porfa": "por favor", "porfavor": "por favor",
    "xfa": "por favor", "grax": "gracias",
})

# --- Payment-analysis vocabulary ---------------------------------------------------------

#: Words that negate what follows them (within a clause piece, see `flows.intent_payment`).
NEGATORS = frozenset({
    "pas", "jamais", "ni", "rien", "not", "never", "dont", "cant", "wont", "didnt", "doesnt",
    "isnt", "arent", "aint", "couldnt", "wouldnt", "shouldnt", "havent", "hasnt", "neg",
    "nunca", "impossible", "unable",
})
#: Negated payment with one of these nearby means "cannot (yet)" → pay later, not a refusal.
INABILITY = frozenset({
    "peux", "peut", "pourrai", "pourrais", "pourrons", "pouvons", "pouvez", "arrive",
    "arriverai", "can", "cant", "could", "couldnt", "able", "unable", "puedo", "podre",
    "puede", "impossible", "moyens", "possible",
})
#: The negation search stops at these: they open a subordinate clause ("comment", "si"...).
SCOPE_BREAKERS = frozenset({
    "comment", "si", "quand", "how", "if", "when", "pourquoi", "why", "sinon", "ou", "or",
    "parce", "because", "como", "cuando",
})
#: After Spanish "no", one of these makes it a negator ("no puedo pagar ahora").
SPANISH_VERBS = frozenset({
    "puedo", "quiero", "voy", "tengo", "pagare", "pago", "puede", "podre", "estoy", "vamos",
    "necesito", "lo", "la", "le", "me", "te", "pagar", "pienso",
})

#: Idioms that mean "no" and negate what follows ("no way I'm paying"); normalised to `neg`.
NEGATION_IDIOMS = _words(
    r"no way", r"pas question", r"hors de question", r"jamais de la vie", r"surement pas",
    r"certainement pas", r"absolument pas", r"absolutely not", r"certainly not",
    r"definitely not", r"of course not", r"no chance", r"aucune chance", r"pas moyen",
    r"de ninguna manera", r"ni hablar", r"ni loco", r"pas du tout", r"not at all",
    r"en aucun cas", r"no no", r"non non",
)
#: A new piece (and possibly a change of mind) starts at these; the last decision wins.
CHANGE_OF_MIND = re.compile(
    r"\b(?:finalement|en fait|plutot|mais|but|however|actually|instead|rather|sorry|pardon|"
    r"oups|oops|correction|je me suis trompe|i meant|je voulais dire|pero|mejor|neg|non|"
    r"nope|nah|jamais|never|no(?! (?:" + "|".join(sorted(SPANISH_VERBS)) + r")\b))\b"
)
#: Piece starts that are themselves an explicit "no".
NO_START = re.compile(r"^(?:neg|non|nope|nah|jamais|never|no)\b")
#: "Pas de souci" / "no problem" say yes; rewrite them before negation analysis.
NO_PROBLEM = _words(
    r"pas de (?:souci|soucis|probleme|problemes|probleme|prob)", r"sans (?:souci|probleme)",
    r"no (?:problem|problemo|prob|probs|worries|worry)", r"np", r"sin problema",
)

# --- Language detection --------------------------------------------------------------------

FRENCH_WORDS = frozenset({
    "je", "j", "tu", "vous", "nous", "il", "elle", "est", "c", "pas", "oui", "ouais", "non",
    "merci", "bonjour", "bonsoir", "salut", "payer", "paie", "paye", "paierai", "fois", "plus",
    "tard", "demain", "maintenant", "facture", "suis", "ai", "veux", "peux", "vais", "mois",
    "semaine", "prochain", "prochaine", "lundi", "mardi", "mercredi", "jeudi", "vendredi",
    "samedi", "dimanche", "le", "les", "du", "des", "une", "un", "et", "mais", "pour", "avec",
    "dans", "deja", "regle", "conseiller", "aide", "combien", "dois", "quoi", "rien", "ne",
    "moi", "mon", "ma", "mes", "votre", "vos", "ce", "ca", "d", "accord", "plait", "quelqu",
    "fin", "apres", "soir", "au", "en", "sur", "arret", "arrete", "desabonner", "trois",
    "deux", "quatre", "jamais", "toujours", "encore", "quand", "comment", "pourquoi",
})
ENGLISH_WORDS = frozenset({
    "i", "you", "the", "to", "is", "my", "pay", "paid", "yes", "yeah", "yep", "nope",
    "not", "now", "later", "please", "thanks", "thank", "tomorrow", "today", "tonight", "week",
    "month", "next", "friday", "monday", "tuesday", "wednesday", "thursday", "saturday",
    "sunday", "can", "cant", "dont", "wont", "will", "want", "already", "it", "this", "that",
    "of", "in", "on", "and", "but", "for", "with", "me", "how", "much", "what", "when",
    "hello", "hi", "human", "split", "installments", "end", "unsubscribe",
    "owe", "bill", "invoice", "amount", "wrong", "never", "ordered", "m", "ll", "have", "be",
    "sure", "way", "leave", "alone", "call", "someone", "help", "would",
})
SPANISH_WORDS = frozenset({
    "yo", "el", "los", "las", "que", "pagar", "pago", "pague", "manana", "gracias", "hola",
    "por", "favor", "quiero", "puedo", "ahora", "despues", "luego", "cuotas", "plazos",
    "semana", "mes", "viernes", "lunes", "martes", "miercoles", "jueves", "sabado", "domingo",
    "ya", "pagado", "esta", "cuanto", "debo", "ayuda", "con", "una", "uno", "tengo", "dinero",
    "mas", "tarde", "veces", "nunca", "hablar", "persona", "baja", "vale", "claro", "proximo",
})
