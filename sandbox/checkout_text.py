"""The test checkout page's wording in the customer's language, as Stripe's hosted page does.

The sandbox stands in for Stripe, whose Checkout translates itself from the session's
`locale`; these few strings are the emulator's, not Facto's, so they are not in Facto's
catalogs.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_FR: Mapping[str, str] = MappingProxyType(
    {
        "title": "Paiement — mode test",
        "banner": "MODE TEST — aucun paiement réel (sandbox Stripe de Facto)",
        "unknown_title": "Session introuvable",
        "unknown_text": "Ce lien de paiement n'existe pas (ou le serveur a redémarré : "
        "la sandbox garde tout en mémoire).",
        "refused": "Cette session ne peut plus être payée.",
        "pay_card": "Payer par carte",
        "pay_sepa": "Payer par prélèvement SEPA",
        "cancel": "Annuler et revenir au marchand",
        "expired_title": "Session expirée",
        "expired_text": "Ce lien de paiement a expiré. Demandez un nouveau lien au marchand.",
        "paid_title": "Paiement reçu",
        "paid_text": "Cette facture est déjà payée. Merci\u00a0!",
        "after_title": "Après le paiement (simulation)",
        "refunded": "Remboursé",
        "disputes": "litiges",
        "refund_amount": "Montant en centimes (vide : tout)",
        "refund": "Rembourser (comme le marchand depuis Stripe)",
        "dispute_won": "Clore le litige : gagné par le marchand",
        "dispute_lost": "Clore le litige : perdu par le marchand",
        "dispute_open": "Ouvrir un litige (comme la banque du client)",
        "sepa_title": "Prélèvement SEPA en cours",
        "sepa_text": "Le mandat est signé ; la banque n'a pas encore confirmé le prélèvement. "
        "Simulez sa réponse :",
        "sepa_confirm": "Confirmer le prélèvement",
        "sepa_fail": "Faire échouer le prélèvement",
        "sepa_failed_title": "Prélèvement refusé",
        "sepa_failed_text": "La banque a rejeté le prélèvement SEPA.",
        "back": "Retour au marchand",
    }
)
_EN: Mapping[str, str] = MappingProxyType(
    {
        "title": "Payment — test mode",
        "banner": "TEST MODE — no real payment (Facto's Stripe sandbox)",
        "unknown_title": "Session not found",
        "unknown_text": "This payment link does not exist (or the server restarted: "
        "the sandbox keeps everything in memory).",
        "refused": "This session can no longer be paid.",
        "pay_card": "Pay by card",
        "pay_sepa": "Pay by SEPA Direct Debit",
        "cancel": "Cancel and return to the merchant",
        "expired_title": "Session expired",
        "expired_text": "This payment link has expired. Ask the merchant for a new one.",
        "paid_title": "Payment received",
        "paid_text": "This invoice is already paid. Thank you!",
        "after_title": "After the payment (simulation)",
        "refunded": "Refunded",
        "disputes": "disputes",
        "refund_amount": "Amount in cents (empty: all)",
        "refund": "Refund (as the merchant would from Stripe)",
        "dispute_won": "Close the dispute: won by the merchant",
        "dispute_lost": "Close the dispute: lost by the merchant",
        "dispute_open": "Open a dispute (as the customer's bank would)",
        "sepa_title": "SEPA Direct Debit in progress",
        "sepa_text": "The mandate is signed; the bank has not confirmed the debit yet. "
        "Simulate its answer:",
        "sepa_confirm": "Confirm the debit",
        "sepa_fail": "Make the debit fail",
        "sepa_failed_title": "Debit refused",
        "sepa_failed_text": "The bank rejected the SEPA Direct Debit.",
        "back": "Return to the merchant",
    }
)
_TEXTS: Mapping[str, Mapping[str, str]] = MappingProxyType({"fr": _FR, "en": _EN})
_BABEL_LOCALES: Mapping[str, str] = MappingProxyType({"fr": "fr_FR", "en": "en_GB"})


def checkout_language(session_locale: str | None, accept_language: str = "") -> str:
    """The session's `locale` ("fr", "en-GB"), else the browser's ("auto"), else French."""
    for candidate in (session_locale or "", accept_language.split(",", maxsplit=1)[0]):
        language = candidate.strip()[:2].lower()
        if language in _TEXTS:
            return language
    return "fr"


def checkout_texts(language: str) -> Mapping[str, str]:
    return _TEXTS.get(language, _FR)


def babel_locale(language: str) -> str:
    return _BABEL_LOCALES.get(language, "fr_FR")
