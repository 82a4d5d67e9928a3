"""French company identifiers (SIREN, VAT number) and the seller identity printed on invoices.

A French intra-community VAT number is "FR" + a 2-digit key + the SIREN, with
key = (12 + 3 × (SIREN mod 97)) mod 97; e.g. SIREN 732 829 320 → FR44732829320.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from payments.money import Money

__all__ = [
    "Mention",
    "SellerSnapshot",
    "format_siren",
    "fr_vat_key",
    "seller_mentions",
    "validate_fr_vat_number",
    "validate_siren",
]

# Characters people type inside identifiers ("732 829 320", "FR 44 732.829.320").
_SEPARATORS = re.compile(r"[\s.\-\u00a0\u202f]")

# VIES formats for the other member states (country prefix excluded). Greece uses "EL" and
# Northern Ireland "XI" in VIES. A format check only: the number may still be unregistered.
_EU_VAT_FORMATS: Mapping[str, str] = MappingProxyType(
    {
        "AT": r"U\d{8}",
        "BE": r"[01]\d{9}",
        "BG": r"\d{9,10}",
        "CY": r"\d{8}[A-Z]",
        "CZ": r"\d{8,10}",
        "DE": r"\d{9}",
        "DK": r"\d{8}",
        "EE": r"\d{9}",
        "EL": r"\d{9}",
        "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
        "FI": r"\d{8}",
        "HR": r"\d{11}",
        "HU": r"\d{8}",
        "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
        "IT": r"\d{11}",
        "LT": r"\d{9}|\d{12}",
        "LU": r"\d{8}",
        "LV": r"\d{11}",
        "MT": r"\d{8}",
        "NL": r"\d{9}B\d{2}",
        "PL": r"\d{10}",
        "PT": r"\d{9}",
        "RO": r"[1-9]\d{1,9}",
        "SE": r"\d{10}01",
        "SI": r"\d{8}",
        "SK": r"\d{10}",
        "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    }
)


def _compact(value: object, what: str) -> str:
    if not isinstance(value, str):
        msg = f"{what} must be a string"
        raise ValueError(msg)
    compact = _SEPARATORS.sub("", value).upper()
    if len(compact) > 20:
        msg = f"{what} is too long"
        raise ValueError(msg)
    return compact


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def validate_siren(value: object) -> str:
    """Return the 9-digit SIREN without spaces; ValueError if malformed or the Luhn check fails."""
    siren = _compact(value, "SIREN")
    if not re.fullmatch(r"\d{9}", siren):
        msg = "SIREN must be exactly 9 digits"
        raise ValueError(msg)
    if siren == "000000000" or not _luhn_ok(siren):
        msg = f"SIREN {siren} is not valid (check digit mismatch)"
        raise ValueError(msg)
    return siren


def format_siren(siren: str) -> str:
    """'732829320' → '732 829 320', as printed on French invoices."""
    s = validate_siren(siren)
    return f"{s[:3]} {s[3:6]} {s[6:]}"


def fr_vat_key(siren: str) -> str:
    """The 2-digit key of the French VAT number built on `siren`."""
    return f"{(12 + 3 * (int(validate_siren(siren)) % 97)) % 97:02d}"


def validate_fr_vat_number(value: object, siren: str | None = None) -> str:
    """Return the compact VAT number (e.g. 'FR44732829320'); ValueError with the reason otherwise.

    French numbers are checked completely (key, SIREN check digit, and that the SIREN is the
    seller's own when `siren` is given). Other EU numbers get a format check only.
    """
    vat = _compact(value, "VAT number")
    country, rest = vat[:2], vat[2:]
    if country != "FR":
        return _validate_other_eu(country, rest, vat)
    if not re.fullmatch(r"\d{11}", rest):
        msg = "French VAT number must be FR + 2-digit key + 9-digit SIREN"
        raise ValueError(msg)
    key, embedded = rest[:2], rest[2:]
    try:
        validate_siren(embedded)
    except ValueError as e:
        msg = f"VAT number {vat} does not contain a valid SIREN"
        raise ValueError(msg) from e
    if siren is not None and embedded != validate_siren(siren):
        msg = f"VAT number {vat} does not match SIREN {validate_siren(siren)}"
        raise ValueError(msg)
    if key != fr_vat_key(embedded):
        msg = f"VAT number {vat} has a wrong key (expected FR{fr_vat_key(embedded)}{embedded})"
        raise ValueError(msg)
    return vat


def _validate_other_eu(country: str, rest: str, vat: str) -> str:
    pattern = _EU_VAT_FORMATS.get(country)
    if pattern is None:
        msg = f"VAT number must start with an EU country code (FR, DE, ...), got {country!r}"
        raise ValueError(msg)
    if not re.fullmatch(pattern, rest):
        msg = f"VAT number {vat} does not have the {country} format"
        raise ValueError(msg)
    return vat


# --- The seller's legal identity, as printed on its invoices ---------------------------------

_PENALTY_RATE = re.compile(r"\d{1,3}(\.\d{1,2})?")
_SELLER_KEYS = ("legal_name", "address", "siren", "vat_number", "legal_form", "rcs_city")


@dataclass(frozen=True, slots=True)
class SellerSnapshot:
    """The merchant's identity when an invoice was issued (CGI ann. II art. 242 nonies A)."""

    legal_name: str
    address: str
    siren: str
    vat_number: str | None = None
    legal_form: str | None = None  # "SAS", "EURL", "EI"...
    share_capital: Money | None = None
    rcs_city: str | None = None  # registry and city as printed: "RCS Paris", "RM Lyon"
    late_penalty_rate: str | None = None  # contractual annual %, decimal string; None = legal

    def __post_init__(self) -> None:
        if not self.legal_name.strip() or not self.address.strip():
            msg = "seller legal name and address are mandatory on an invoice"
            raise ValueError(msg)
        if validate_siren(self.siren) != self.siren:
            msg = "seller SIREN must be stored compact (9 digits)"
            raise ValueError(msg)
        if self.vat_number is not None:
            validate_fr_vat_number(self.vat_number, self.siren)
        rate = self.late_penalty_rate
        if rate is not None and not _PENALTY_RATE.fullmatch(rate):
            msg = "late_penalty_rate must be a decimal string of an annual percentage"
            raise ValueError(msg)

    def to_dict(self) -> dict[str, Any]:
        capital = self.share_capital
        return {
            **{k: getattr(self, k) for k in _SELLER_KEYS},
            "share_capital": None if capital is None else _money_dict(capital),
            "late_penalty_rate": self.late_penalty_rate,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SellerSnapshot:
        capital = d["share_capital"]
        return cls(
            **{k: d[k] for k in _SELLER_KEYS},
            share_capital=None
            if capital is None
            else Money(capital["amount"], capital["currency"]),
            late_penalty_rate=d["late_penalty_rate"],
        )


def _money_dict(money: Money) -> dict[str, Any]:
    return {"amount": money.amount, "currency": money.currency}


@dataclass(frozen=True, slots=True)
class Mention:
    """A legal mention as a message id + parameters, translated by the page templates (gettext).

    Ids, params and the French wording they stand for:

    - ``seller_legal_name`` {name}
    - ``seller_legal_form`` {form}: "SAS"
    - ``seller_share_capital`` {amount: Money}: "au capital de {amount}"
    - ``seller_address`` {address}
    - ``seller_siren`` {siren}: "SIREN {siren}" (grouped 3-3-3)
    - ``seller_registry`` {registry, siren}: "{registry} {siren}", e.g. "RCS Paris 732 829 320"
    - ``seller_vat_number`` {vat_number}: "N° TVA intracommunautaire : {vat_number}"
    - ``vat_franchise`` {}: "TVA non applicable, art. 293 B du CGI"
    - ``no_early_payment_discount`` {}: "Pas d'escompte pour paiement anticipé"
    - ``fast_payment_reward`` {hours}: "Paiement intégral sous {hours} h : avantage sur un
      prochain achat, sans réduction du montant de cette facture" (payments.reward)
    - ``late_penalty_rate`` {rate} (B2B): "Pénalités de retard : {rate} % par an"
    - ``late_penalty_legal_rate`` {} (B2B): "Pénalités de retard : taux de refinancement de la
      BCE majoré de 10 points"
    - ``recovery_indemnity`` {amount: Money} (B2B): "Indemnité forfaitaire pour frais de
      recouvrement : {amount}" (40 €, D441-5; never shown to consumers, TESTCASES 75)
    """

    id: str
    params: Mapping[str, str | Money] = field(default_factory=dict)


def seller_mentions(seller: SellerSnapshot) -> list[Mention]:
    """The seller-identity part of the legal mentions, in display order."""
    siren = format_siren(seller.siren)
    mentions = [Mention("seller_legal_name", {"name": seller.legal_name})]
    if seller.legal_form:
        mentions.append(Mention("seller_legal_form", {"form": seller.legal_form}))
    if seller.share_capital is not None:
        mentions.append(Mention("seller_share_capital", {"amount": seller.share_capital}))
    mentions += [
        Mention("seller_address", {"address": seller.address}),
        Mention("seller_siren", {"siren": siren}),
    ]
    if seller.rcs_city:
        mentions.append(Mention("seller_registry", {"registry": seller.rcs_city, "siren": siren}))
    if seller.vat_number:
        mentions.append(Mention("seller_vat_number", {"vat_number": seller.vat_number}))
    return mentions
