"""GSM-7 safety, segment counting and the SMS rendering of buttons."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.base import Button
from channels.sms_text import is_gsm7, render_sms, segment_count, sms_safe


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("75,50\u00a0€", "75,50 €"),
        ("le 30\u202fnovembre", "le 30 novembre"),
        ("l’équipe «\u00a0merci\u00a0»", 'l\'équipe " merci "'),
        ("“Bonjour” ‘toi’", "\"Bonjour\" 'toi'"),
        ("Attendez…", "Attendez..."),
        ("10–20 — fin", "10-20 - fin"),
        ("cœur Œuvre", "coeur OEuvre"),
        (
            "fenêtre, âge, île, hôtel, sûr, Noël, naïf, reçu",
            "fenetre, age, ile, hotel, sur, Noel, naif, recu",
        ),
        ("á í ó ú ÿ À Â È Ê Î Ô Û Ù", "a i o u y A A E E I O U U"),
        ("n° 42", "no 42"),
        ("\u200bcaché\ufeff", "caché"),
        ("e\u0301te\u0301", "été"),  # decomposed accents, as some keyboards send them
    ],
)
def test_sms_safe_examples(raw: str, safe: str) -> None:
    assert sms_safe(raw) == safe
    assert is_gsm7(sms_safe(raw))


def test_gsm7_letters_are_kept() -> None:
    kept = "é è ù ì ò à ä ö ü ñ É Ç Ä Ö Ñ Ü å Å æ Æ ø Ø ß € £ $ ¥ § ¿ ¡ [ ] { } ~ ^ | \\"
    assert sms_safe(kept) == kept
    assert is_gsm7(kept)


def test_characters_without_equivalent_are_kept() -> None:
    assert sms_safe("Merci 🙏 محمد") == "Merci 🙏 محمد"
    assert not is_gsm7("Merci 🙏")


def test_is_gsm7() -> None:
    assert is_gsm7("Payer 75,50 € [F-42]")
    assert not is_gsm7("fenêtre")
    assert not is_gsm7("l’équipe")
    assert is_gsm7("")


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters count twice
        ("€" * 81, 2),
        ("a" * 152 + "€", 1),
        ("a" * 152 + "€" + "a" * 8, 2),  # 161 septets; the escape pair is not split
        ("ê" * 70, 1),
        ("ê" * 71, 2),
        ("ê" * 134, 2),
        ("ê" * 135, 3),
        ("🙏" * 35, 1),  # surrogate pairs: two UTF-16 units each
        ("🙏" * 36, 2),
    ],
)
def test_segment_count(text: str, segments: int) -> None:
    assert segment_count(text) == segments


def test_escape_pair_never_straddles_segments() -> None:
    # 152 plain + "€" = 154 septets: the pair moves whole to the second segment.
    assert segment_count("a" * 152 + "€" + "a" * 152) == 3
    assert segment_count("a" * 153 + "a" * 153) == 2


def test_render_numbers_only_action_buttons() -> None:
    body = render_sms(
        "Votre facture F-42 : 75,50\u202f€.",
        [
            Button("Payer", url="https://pay.example/cs_1"),
            Button("Payer en 3 fois", action="split"),
            Button("Aide", action="help"),
        ],
    )
    assert body == (
        "Votre facture F-42 : 75,50 €.\nhttps://pay.example/cs_1\n1. Payer en 3 fois\n2. Aide"
    )


def test_render_skips_urls_already_in_text_and_duplicates() -> None:
    url = "https://pay.example/cs_1"
    body = render_sms(f"Payez ici : {url}", [Button("Payer", url=url), Button("x", url=url)])
    assert body == f"Payez ici : {url}"
    other = "https://pay.example/cs_2"
    assert render_sms("Hi", [Button("a", url=other), Button("b", url=other)]) == f"Hi\n{other}"


def test_render_without_buttons_and_without_text() -> None:
    assert render_sms("Bonjour  ", []) == "Bonjour"
    assert render_sms("", [Button("Oui", action="yes")]) == "1. Oui"


def test_render_makes_labels_gsm7() -> None:
    assert render_sms("Réglé ?", [Button("Déjà payé — reçu", action="paid")]) == (
        "Réglé ?\n1. Déjà payé - recu"
    )


FRENCH_ENGLISH = st.text(
    alphabet=st.sampled_from(
        string.ascii_letters
        + string.digits
        + string.punctuation
        + " \n€"
        + "àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ"
        + "’‘“”«»…–—\u00a0\u202f"
    ),
    max_size=300,
)


@given(FRENCH_ENGLISH)
def test_sms_safe_output_is_gsm7_and_idempotent(text: str) -> None:
    safe = sms_safe(text)
    assert is_gsm7(safe)
    assert sms_safe(safe) == safe


@given(st.text(max_size=200))
def test_sms_safe_is_idempotent_on_any_text(text: str) -> None:
    once = sms_safe(text)
    assert sms_safe(once) == once


@given(FRENCH_ENGLISH)
def test_segment_count_matches_length_rules_for_gsm7(text: str) -> None:
    safe = sms_safe(text)
    septets = len(safe) + sum(ch in "\f^{}\\[~]|€" for ch in safe)
    expected = 1 if septets <= 160 else -(-septets // 153)
    assert segment_count(safe) >= expected
    assert segment_count(safe) <= expected + septets // 153 + 1
