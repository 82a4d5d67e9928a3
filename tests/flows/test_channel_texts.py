"""Every SMS Facto can send fits its segment budget, in French and in English, and every
WhatsApp template gets its variables from the real reply (issue 7).

A segment is 160 GSM-7 characters (153 in a multi-part message); each one is billed. The
invoice may take two; every other message one, except the ones listed below with the reason
they need more. Rendered from real flow replies (`test_rendering._produce`), with link tokens
of the real length, so a longer wording shows up here first.
"""

from __future__ import annotations

import pytest

from channels.base import ChannelName
from channels.sms_text import is_gsm7, segment_count
from channels.whatsapp_templates import BY_MESSAGE, template_for
from flows.campaign import cart_text, marketing_mentions, with_marketing_mentions
from tests.flows.helpers import LOCALES, render, renderer, sms_body, template_names
from tests.flows.test_rendering import _produce

DEFAULT_BUDGET = 1
BUDGETS = {
    "invoice": 2,  # the amount, the due date, the pay link, the invoice link, the 4-choice menu
    "help": 4,  # the whole menu explained: asked for, so it may be long
    # A link (about 45 characters) plus the 4-choice menu that follows it:
    "pay_link": 2,
    "promise_reminder": 2,
    "instalment_due": 2,
    # The ladder: amount left, link and menu; after the due date a B2B customer also reads
    # the late-payment penalties and the 40 EUR indemnity, and the final notice says what next.
    "dunning_before": 2,
    "dunning_due": 2,
    "dunning_late": 3,
    "dunning_final": 3,
    "status": 2,
    # Several open invoices: one line each (number, amount left, date; at most 4, then how
    # many more) and the total; "which one?" numbers them the same way.
    "statement": 2,
    "which_invoice": 2,
    "payment_failed": 2,
    "already_paid_check": 2,
    # A schedule (one line per instalment) and its question:
    "split_proposal": 2,
    "split_confirmed": 2,
    # Legal or safety wording that must be complete:
    "card_warning": 2,
    "credit_note_dispute_lost": 2,
    "opted_out": 2,
    "later_closed": 2,
    # Back from a person: one line saying so, then the menu or what fell due meanwhile (a link):
    "handback": 2,
    "handback_promise": 2,
    "handback_instalment": 2,
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("message", template_names())
def test_every_sms_fits_its_segment_budget(message: str, locale: str) -> None:
    body = sms_body(_produce(message, locale), locale)
    assert is_gsm7(body), f"{message} ({locale}) would be sent as UCS-2"
    budget = BUDGETS.get(message, DEFAULT_BUDGET)
    assert segment_count(body) <= budget, (message, locale, len(body), body)


def test_budgets_name_real_messages() -> None:
    assert set(BUDGETS) <= set(template_names())


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("message", sorted(BY_MESSAGE))
def test_every_whatsapp_template_gets_its_variables_from_the_real_reply(
    message: str, locale: str
) -> None:
    """The variables are evaluated on the params the flow really passes (StrictUndefined)."""
    reply = _produce(message, locale)
    template = template_for(message, reply.params)
    use = renderer().template_use(reply, locale)
    assert template is not None and use is not None and use.name == template.name
    values = dict(use.variables)
    assert all(v.strip() for v in values.values()), values
    shown = template.render(locale, values)
    assert "{{" not in shown
    free_form = render(_produce(message, locale), locale, ChannelName.WHATSAPP).text
    # Links and amounts read the same in the template as in the free-form message.
    for value in values.values():
        if value.startswith("http") or any(ch.isdigit() for ch in value):
            assert value in free_form, (value, free_form)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_promotional_sms_mention_is_short(locale: str) -> None:
    """Sender and STOP (test 79) take at most 30 characters plus the name, of 160."""
    assert len(marketing_mentions(locale, "sms", "")) <= 30


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_cart_relaunch_by_sms_fits_two_segments(locale: str) -> None:
    text = cart_text(locale, "Maximilien", "1 234,90 EUR", "https://shop.example.fr/c/" + "x" * 30)
    body = with_marketing_mentions(text, locale, "sms", "Atelier Lumiere")
    assert is_gsm7(body)
    assert segment_count(body) <= 2, (len(body), body)
