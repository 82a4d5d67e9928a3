"""Plain-text rendering for SMS: GSM-7 friendly text, numbered choices, segment counting.

One character outside the GSM-7 alphabet (a typographic apostrophe, a narrow no-break space
from babel, a "ê") switches the whole message to UCS-2, which cuts a segment from 160 to 70
characters and roughly doubles the bill. `sms_safe` swaps such characters for a plain GSM-7
equivalent when one exists and leaves the rest alone (a name in Arabic stays readable).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from channels.base import Button

# 3GPP TS 23.038 default alphabet (ESC at 0x1B is omitted: it is not a character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each costs two septets (ESC + code).
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# Replacements checked before any Unicode decomposition. Only characters that NFKD does not
# already turn into GSM-7 need to be here (or where NFKD would give a worse result).
_REPLACEMENTS: dict[str, str] = {
    # spaces: babel puts U+00A0 / U+202F in amounts and dates
    "\u00a0": " ",
    "\u202f": " ",
    "\u2007": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u3000": " ",
    "\t": " ",
    # invisible characters that would silently force UCS-2
    "\u200b": "",
    "\u2060": "",
    "\ufeff": "",
    "\u00ad": "",
    # quotes and apostrophes
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "`": "'",
    "\u00b4": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2039": "'",
    "\u203a": "'",
    # dashes, hyphens, bullets
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2022": "-",
    "\u00b7": ".",
    "\u2026": "...",
    # ligatures and letters NFKD leaves alone
    "œ": "oe",
    "Œ": "OE",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "Th",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ı": "i",
    # symbols common on French invoices
    "°": "o",
    "×": "x",
    "÷": "/",
    "\u2044": "/",
    "©": "(c)",
    "®": "(R)",
}


def is_gsm7(text: str) -> bool:
    """True when `text` fits the GSM-7 alphabet (basic or extension table)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def sms_safe(text: str) -> str:
    """Replace characters that force UCS-2 with a GSM-7 equivalent, when one exists.

    Characters already in GSM-7 (é è à ù ä ö ü ñ Ç É ß €...) are kept; other accented letters
    lose their accent (ê → e, ç → c, À → A); characters without any equivalent (emoji,
    non-Latin scripts) are kept as they are. Idempotent.
    """
    out: list[str] = []
    # NFC first so that an "e" followed by a combining accent is judged as the letter "é".
    for ch in unicodedata.normalize("NFC", text):
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
            continue
        replacement = _plain_equivalent(ch)
        if replacement is not None:
            out.append(replacement)
        elif unicodedata.combining(ch) and out and is_gsm7(out[-1][-1:]):
            continue  # an accent that composed with nothing: drop it, keep the letter
        else:
            out.append(ch)
    return "".join(out)


def _plain_equivalent(ch: str) -> str | None:
    """The GSM-7 spelling of one character, or None when there is none."""
    if ch in _REPLACEMENTS:
        return _REPLACEMENTS[ch]
    decomposed = unicodedata.normalize("NFKD", ch)
    stripped = "".join(
        _REPLACEMENTS.get(part, part) for part in decomposed if not unicodedata.combining(part)
    )
    if stripped and is_gsm7(stripped):
        return stripped
    return None


def segment_count(text: str) -> int:
    """How many SMS segments `text` costs (an empty text still costs one).

    GSM-7: 160 septets in one segment, else 153 per segment, extension characters count two
    and never straddle two segments. UCS-2: 70 UTF-16 units, else 67, surrogate pairs kept
    whole.
    """
    if is_gsm7(text):
        units = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        single, multi = 160, 153
    else:
        units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single, multi = 70, 67
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for size in units:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return segments


def render_sms(text: str, buttons: Sequence[Button]) -> str:
    """The message as one SMS body: text, link lines, then numbered choices.

    Contract with the bot: the Nth button that has an `action` (counting only those) is
    offered as "N. <label>", so a customer replying "N" chose that action. A button without
    an action is a link: its URL goes on its own line, once, unless the text already has it.
    """
    lines = [text.rstrip()] if text.strip() else []
    seen_urls: set[str] = set()
    for button in buttons:
        url = button.url
        if button.action is None and url and url not in seen_urls and url not in text:
            seen_urls.add(url)
            lines.append(url)
    actions = [button for button in buttons if button.action is not None]
    lines.extend(f"{number}. {button.label}" for number, button in enumerate(actions, 1))
    return sms_safe("\n".join(lines))
