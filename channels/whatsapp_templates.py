"""The WhatsApp templates Facto submits for approval, declared in one place.

Outside the 24 h customer-service window WhatsApp only carries approved templates (PROVIDERS
§2.6): each message that may have to start a conversation (the invoice, the reminders, the
instalment links, the receipts) has a *utility* template in French and English here, with its
variables in order and the text to submit. The README's going-live section lists them; the
sandbox emulator registers them as if they were approved.

Each variable is an expression over the flow's reply parameters (the same names the message's
jinja template uses), evaluated by `bot.render` with the customer's locale so that amounts and
dates read the same as in the free-form message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from channels.base import TemplateUse

CATEGORY = "utility"
LOCALES = ("fr", "en")


@dataclass(frozen=True, slots=True)
class WhatsAppTemplate:
    name: str  # the template's name at Twilio/Meta (lowercase, underscores)
    message: str  # the reply (bot/templates/messages/<message>.j2) it stands for
    variables: tuple[str, ...]  # expression of {{1}}, {{2}}, ... in order
    text: Mapping[str, str]  # locale -> body with {{n}} placeholders, as submitted
    # Quick-reply buttons approved with the template: (payload, locale -> title <= 20 chars).
    # A tap comes back as the payload, which is the flow's choice.
    buttons: tuple[tuple[str, Mapping[str, str]], ...] = ()
    # A reply parameter this template needs: when the reply has it (non-empty), this template
    # says the reply instead of the message's plain one (the fast-payment reward's line).
    needs: str | None = None

    @property
    def content_type(self) -> str:
        return "twilio/quick-reply" if self.buttons else "twilio/text"

    def render(self, locale: str, values: Mapping[str, str]) -> str:
        """The body WhatsApp shows for these variable values (the emulator uses it)."""
        body = self.text[locale]
        for number in range(len(self.variables), 0, -1):
            body = body.replace("{{" + str(number) + "}}", values.get(str(number), ""))
        return body


# The ladder's reminders offer the same choices as the invoice (flows.dunning).
_REMINDER_BUTTONS: tuple[tuple[str, Mapping[str, str]], ...] = (
    ("pay", {"fr": "Payer", "en": "Pay now"}),
    ("later", {"fr": "Plus tard", "en": "Pay later"}),
    ("split", {"fr": "En plusieurs fois", "en": "In instalments"}),
)


def _reward_line(expressions: Mapping[str, str]) -> str:
    """One variable saying the reward of its kind, in the words of the free-form message (the
    same catalog entries, so it reads the same inside and outside the window)."""
    percent, code, points = (expressions[kind] for kind in ("percent", "code", "points"))
    return f"{percent} if {{kind}} == 'percent' else {code} if {{kind}} == 'code' else {points}"


_UNTIL = "until=reward_until|short_date, at=reward_until|short_time"
_OFFERED = _reward_line(
    {
        "percent": "gettext('Paid by %(until)s at %(at)s: %(percent)s off your next purchase.', "
        + _UNTIL
        + ", percent=invoice.reward.percent|percent)",
        "code": "gettext('Paid by %(until)s at %(at)s: a discount code for your next "
        "purchase.', " + _UNTIL + ")",
        "points": "gettext('Paid by %(until)s at %(at)s: %(points)s loyalty points.', "
        + _UNTIL
        + ", points=invoice.reward.points|number)",
    }
).replace("{kind}", "invoice.reward.kind")
_GRANTED = _reward_line(
    {
        "percent": "gettext('Paid quickly: %(percent)s off your next purchase with the code "
        "%(code)s.', percent=reward.percent|percent, code=reward.code)",
        "code": "gettext('Paid quickly: your discount code for your next purchase is %(code)s.', "
        "code=reward.code)",
        "points": "gettext('Paid quickly: %(points)s loyalty points, %(total)s in all.', "
        "points=reward.points|number, total=points_total|number)",
    }
).replace("{kind}", "reward.kind")

_TEMPLATES = (
    WhatsAppTemplate(
        name="facto_invoice_reward",
        message="invoice",
        needs="reward_until",
        variables=(
            "invoice.customer_name",
            "invoice.merchant_name",
            "invoice.number",
            "invoice.amount_due|money",
            "invoice.due_date|long_date",
            _OFFERED,
            "invoice.pay_url",
            "invoice.invoice_url",
        ),
        text={
            "fr": "Bonjour {{1}}, {{2}} vous a envoyé la facture {{3}} de {{4}}, à régler "
            "avant le {{5}}.\n\n{{6}}\n\nPayer en ligne : {{7}}\n\nVoir la facture : {{8}}",
            "en": "Hello {{1}}, {{2}} sent you invoice {{3}} for {{4}}, due {{5}}.\n\n{{6}}"
            "\n\nPay securely: {{7}}\n\nSee the invoice: {{8}}",
        },
        buttons=(
            ("pay", {"fr": "Payer", "en": "Pay now"}),
            ("later", {"fr": "Plus tard", "en": "Pay later"}),
            ("split", {"fr": "En plusieurs fois", "en": "In instalments"}),
        ),
    ),
    WhatsAppTemplate(
        name="facto_invoice",
        message="invoice",
        variables=(
            "invoice.customer_name",
            "invoice.merchant_name",
            "invoice.number",
            "invoice.amount_due|money",
            "invoice.due_date|long_date",
            "invoice.pay_url",
            "invoice.invoice_url",
        ),
        text={
            "fr": "Bonjour {{1}}, {{2}} vous a envoyé la facture {{3}} de {{4}}, à régler "
            "avant le {{5}}.\n\nPayer en ligne : {{6}}\n\nVoir la facture : {{7}}",
            "en": "Hello {{1}}, {{2}} sent you invoice {{3}} for {{4}}, due {{5}}.\n\n"
            "Pay securely: {{6}}\n\nSee the invoice: {{7}}",
        },
        buttons=(
            ("pay", {"fr": "Payer", "en": "Pay now"}),
            ("later", {"fr": "Plus tard", "en": "Pay later"}),
            ("split", {"fr": "En plusieurs fois", "en": "In instalments"}),
        ),
    ),
    WhatsAppTemplate(
        name="facto_pay_later_reminder",
        message="promise_reminder",
        variables=("invoice.number", "invoice.merchant_name", "invoice.pay_url"),
        text={
            "fr": "Bonjour, comme convenu, voici le lien de paiement de la facture {{1}} de "
            "{{2}} : {{3}}",
            "en": "Hello, as agreed, here is the link for invoice {{1}} from {{2}}: {{3}}",
        },
    ),
    WhatsAppTemplate(
        name="facto_instalment_due",
        message="instalment_due",
        variables=(
            "instalment.number",
            "invoice.number",
            "instalment.amount|money",
            "instalment.pay_url",
        ),
        text={
            "fr": "Bonjour, l'échéance n° {{1}} de la facture {{2}} est à régler aujourd'hui. "
            "Montant : {{3}}. Votre lien sécurisé : {{4}}",
            "en": "Hello, payment no. {{1}} for invoice {{2}} is due today. Amount: {{3}}. "
            "Your secure link: {{4}}",
        },
    ),
    WhatsAppTemplate(
        name="facto_instalment_late",
        message="instalment_late",
        variables=("instalment.number", "invoice.number", "instalment.pay_url"),
        text={
            "fr": "Bonjour, un rappel pour l'échéance n° {{1}} de la facture {{2}}. Votre lien "
            "sécurisé : {{3}}",
            "en": "Hello, a reminder about payment no. {{1}} for invoice {{2}}. Your secure "
            "link: {{3}}",
        },
    ),
    WhatsAppTemplate(
        name="facto_instalment_link",
        message="instalment_link",
        variables=(
            "instalment.number",
            "instalment.amount|money",
            "instalment.due_date|long_date",
            "instalment.pay_url",
        ),
        text={
            "fr": "Échéance n° {{1}} : {{2}}, à régler le {{3}}. Votre lien sécurisé : {{4}}",
            "en": "Payment no. {{1}}: {{2}}, due on {{3}}. Your secure link: {{4}}",
        },
    ),
    WhatsAppTemplate(
        name="facto_receipt",
        message="receipt",
        variables=(
            "paid_amount|money",
            "invoice.number",
            "invoice.merchant_name",
            "invoice.invoice_url",
        ),
        text={
            "fr": "Paiement reçu : {{1}} pour la facture {{2}} de {{3}}. Merci ! Votre "
            "facture : {{4}}",
            "en": "Payment received: {{1}} for invoice {{2}} from {{3}}. Thank you! Your "
            "invoice: {{4}}",
        },
    ),
    WhatsAppTemplate(
        name="facto_receipt_reward",
        message="receipt",
        needs="reward",
        variables=(
            "paid_amount|money",
            "invoice.number",
            "invoice.merchant_name",
            _GRANTED,
            "invoice.invoice_url",
        ),
        text={
            "fr": "Paiement reçu : {{1}} pour la facture {{2}} de {{3}}. Merci !\n\n{{4}}"
            "\n\nVotre facture : {{5}}",
            "en": "Payment received: {{1}} for invoice {{2}} from {{3}}. Thank you!\n\n{{4}}"
            "\n\nYour invoice: {{5}}",
        },
    ),
    WhatsAppTemplate(
        name="facto_instalment_receipt",
        message="instalment_received",
        variables=("paid_amount|money", "invoice.number", "invoice.amount_due|money"),
        text={
            "fr": "Paiement reçu : {{1}} pour la facture {{2}}. Merci ! Reste à payer : {{3}}.",
            "en": "Payment received: {{1}} for invoice {{2}}. Thank you! Left to pay: {{3}}.",
        },
    ),
    WhatsAppTemplate(
        name="facto_partial_receipt",
        message="partial_receipt",
        variables=("paid_amount|money", "invoice.number", "invoice.amount_due|money"),
        text={
            "fr": "Paiement reçu : {{1}} pour la facture {{2}}. Reste à payer : {{3}}.",
            "en": "Payment received: {{1}} for invoice {{2}}. Left to pay: {{3}}.",
        },
    ),
    WhatsAppTemplate(
        name="facto_invoice_voided",
        message="invoice_voided",
        variables=(
            "invoice.merchant_name",
            "paid_amount|money",
            "invoice.number",
            "credit_note_url",
        ),
        # One wording for both cases: voiding a whole unpaid invoice cancels all that was
        # left to pay, voiding a partly paid one the rest.
        text={
            "fr": "Bonjour, {{1}} a annulé les {{2}} restant dus sur la facture {{3}} : vous "
            "n'avez plus rien à régler.\n\nAvoir : {{4}}",
            "en": "Hello, {{1}} cancelled the {{2}} left to pay on invoice {{3}}: you have "
            "nothing more to pay.\n\nCredit note: {{4}}",
        },
    ),
    WhatsAppTemplate(
        name="facto_reminder_before",
        message="dunning_before",
        variables=(
            "invoice.merchant_name",
            "invoice.number",
            "invoice.due_date|long_date",
            "invoice.amount_due|money",
            "invoice.pay_url",
        ),
        text={
            "fr": "Bonjour, petit rappel de {{1}} : la facture {{2}} est à régler le {{3}}."
            "\n\nReste à payer : {{4}}. Payer : {{5}}",
            "en": "Hello, a friendly reminder from {{1}}: invoice {{2}} is due on {{3}}."
            "\n\nLeft to pay: {{4}}. Pay securely: {{5}}",
        },
        buttons=_REMINDER_BUTTONS,
    ),
    WhatsAppTemplate(
        name="facto_reminder_due",
        message="dunning_due",
        variables=(
            "invoice.number",
            "invoice.merchant_name",
            "invoice.amount_due|money",
            "invoice.pay_url",
        ),
        text={
            "fr": "Bonjour, la facture {{1}} de {{2}} arrive à échéance aujourd'hui."
            "\n\nReste à payer : {{3}}. Payer : {{4}}",
            "en": "Hello, invoice {{1}} from {{2}} is due today.\n\nLeft to pay: {{3}}. "
            "Pay securely: {{4}}",
        },
        buttons=_REMINDER_BUTTONS,
    ),
    WhatsAppTemplate(
        name="facto_reminder_late",
        message="dunning_late",
        variables=(
            "invoice.merchant_name",
            "invoice.number",
            "invoice.due_date|long_date",
            "invoice.amount_due|money",
            "invoice.pay_url",
            "invoice.invoice_url",
        ),
        text={
            "fr": "Bonjour, un message de {{1}} : la facture {{2}}, à régler le {{3}}, n'est "
            "pas encore réglée.\n\nReste à payer : {{4}}. Payer : {{5}}\n\nConditions et "
            "facture : {{6}}",
            "en": "Hello, a message from {{1}}: invoice {{2}}, due on {{3}}, is still unpaid."
            "\n\nLeft to pay: {{4}}. Pay securely: {{5}}\n\nTerms and invoice: {{6}}",
        },
        buttons=_REMINDER_BUTTONS,
    ),
    WhatsAppTemplate(
        name="facto_final_notice",
        message="dunning_final",
        variables=(
            "invoice.merchant_name",
            "invoice.number",
            "invoice.due_date|long_date",
            "invoice.amount_due|money",
            "invoice.pay_url",
            "invoice.invoice_url",
        ),
        text={
            "fr": "Bonjour, dernier rappel de {{1}} : la facture {{2}}, à régler le {{3}}, "
            "n'est toujours pas réglée.\n\nReste à payer : {{4}}. Payer : {{5}}\n\n"
            "Conditions et facture : {{6}}",
            "en": "Hello, final notice from {{1}}: invoice {{2}}, due on {{3}}, is still "
            "unpaid.\n\nLeft to pay: {{4}}. Pay securely: {{5}}\n\nTerms and invoice: {{6}}",
        },
        buttons=_REMINDER_BUTTONS,
    ),
)

# A support agent's own words (bot.engine.handover), when the customer has not written for
# 24 h: WhatsApp carries them only inside this template, the reply as its second variable.
# It stands for no flow reply (a person wrote the text), hence no message template.
AGENT_MESSAGE = WhatsAppTemplate(
    name="facto_agent_message",
    message="agent_message",
    variables=("merchant_name", "text"),
    text={
        "fr": "Bonjour, un message de l'équipe {{1}} :\n\n{{2}}\n\nRépondez à ce message pour "
        "lui répondre.",
        "en": "Hello, a message from the {{1}} team:\n\n{{2}}\n\nReply to this message to "
        "answer them.",
    },
)
# WhatsApp refuses a template body over 1,024 characters (PROVIDERS §2.6): the agent's text
# may take what the wording and a merchant name of up to 80 characters leave.
AGENT_TEXT_MAX_CHARS = 850

TEMPLATES: Mapping[str, WhatsAppTemplate] = MappingProxyType(
    {t.name: t for t in (*_TEMPLATES, AGENT_MESSAGE)}
)
# Each message's templates, those that need a parameter first (`template_for`).
BY_MESSAGE: Mapping[str, tuple[WhatsAppTemplate, ...]] = MappingProxyType(
    {
        message: tuple(
            sorted((t for t in _TEMPLATES if t.message == message), key=lambda t: t.needs is None)
        )
        for message in {t.message for t in _TEMPLATES}
    }
)


def template_for(message: str, params: Mapping[str, object]) -> WhatsAppTemplate | None:
    """The approved template that says `message` with these parameters (None: it has none)."""
    for template in BY_MESSAGE.get(message, ()):
        if template.needs is None or params.get(template.needs):
            return template
    return None


def agent_message_use(locale: str, merchant_name: str, text: str) -> TemplateUse:
    """`AGENT_MESSAGE` saying this reply (the text cut to what fits, as a last resort: the
    console refuses a longer one while the window is closed)."""
    if len(text) > AGENT_TEXT_MAX_CHARS:
        text = text[: AGENT_TEXT_MAX_CHARS - 1].rstrip() + "…"
    return TemplateUse(
        name=AGENT_MESSAGE.name,
        locale=locale if locale in LOCALES else LOCALES[0],
        variables=(("1", merchant_name[:80] or "Facto"), ("2", text)),
    )


def sid_key(name: str, locale: str) -> str:
    """How a template's ContentSid is named in `WHATSAPP_CONTENT_SIDS`: `facto_invoice:fr`."""
    return f"{name}:{locale}"


def sandbox_content_sids() -> dict[str, str]:
    """Stable ContentSids the sandbox gives the templates, as Twilio would once approved."""
    keys = required_sid_keys()
    return {key: "HX" + hashlib.sha256(key.encode()).hexdigest()[:32] for key in keys}


def required_sid_keys() -> list[str]:
    return [sid_key(name, locale) for name in TEMPLATES for locale in LOCALES]
