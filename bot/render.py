"""Turn a flow's `Reply` into the text and buttons of one outbound message."""

from __future__ import annotations

from jinja2 import Template

from bot.i18n import Languages, french_elision
from channels.base import Button, ChannelName, OutboundMessage, TemplateUse
from channels.whatsapp_templates import template_for
from flows.model import INVOICE_CHOICES, PART_CHOICES, Choice, InvoiceFacts, Reply
from payments.money import Money

PAY_LABELS_KEPT = 4096


class MessageRenderer:
    def __init__(self, languages: Languages) -> None:
        self._languages = languages
        # Compiled once per (locale, expression): templates are few, messages many.
        self._variables: dict[tuple[str, str], Template] = {}
        # A choice's label takes no parameter: the same text for a locale as long as the
        # process runs (templates are read once, `auto_reload=False`), so it is rendered
        # once. A deploy that changes a label restarts the process, which starts empty.
        self._labels: dict[tuple[str, str], str] = {}
        # Telegram's "Pay" label, per (locale, instalment, amount): the same invoices' buttons
        # come back in reply after reply; amounts are many, so the dict is capped.
        self._pay_labels: dict[tuple[str, int | None, Money], str] = {}

    def text(
        self,
        reply: Reply,
        locale: str,
        channel: ChannelName | None = None,
        stop_to: str | None = None,
    ) -> str:
        """The message's text; `channel` lets a template leave out what costs an SMS segment;
        `stop_to`: the number STOP goes to when our sender cannot receive it."""
        template = self._languages.text(locale).get_template(f"messages/{reply.message}.j2")
        text = template.render(
            **reply.params, channel=channel.value if channel else "", stop_to=stop_to
        ).strip()
        invoice = reply.params.get("invoice")
        if locale == "fr" and isinstance(invoice, InvoiceFacts):
            text = french_elision(text, (invoice.merchant_name,))
        return text

    def template_use(self, reply: Reply, locale: str) -> TemplateUse | None:
        """The approved WhatsApp template that says this reply, with its variables rendered
        for `locale` (None: the reply has none and can only go inside the 24 h window)."""
        template = template_for(reply.message, reply.params)
        if template is None:
            return None
        values = tuple(
            (str(number), self._variable(locale, expression).render(**reply.params))
            for number, expression in enumerate(template.variables, 1)
        )
        return TemplateUse(name=template.name, locale=locale, variables=values)

    def _variable(self, locale: str, expression: str) -> Template:
        compiled = self._variables.get((locale, expression))
        if compiled is None:
            env = self._languages.text(locale)
            compiled = env.from_string("{{ " + expression + " }}")
            self._variables[(locale, expression)] = compiled
        return compiled

    def choice_label(self, choice: Choice, locale: str) -> str:
        label = self._labels.get((choice.template, locale))
        if label is None:
            template = self._languages.text(locale).get_template(
                f"messages/choices/{choice.template}.j2"
            )
            label = self._labels[(choice.template, locale)] = template.render().strip()
        return label

    def _invoice_label(self, reply: Reply, choice: Choice, locale: str) -> str:
        """ "Which invoice?": the listed invoice's number, amount left and due date."""
        listed = reply.params.get("candidates") or ()
        index = INVOICE_CHOICES.index(choice)
        template = self._languages.text(locale).get_template("messages/choices/invoice.j2")
        candidate = listed[index] if index < len(listed) else None
        return template.render(n=index + 1, candidate=candidate).strip()

    def _button(self, reply: Reply, choice: Choice, locale: str, channel: ChannelName) -> Button:
        invoice = reply.params.get("invoice")
        if (
            channel is ChannelName.TELEGRAM
            and choice is Choice.PAY
            and isinstance(invoice, InvoiceFacts)
            and not invoice.is_paid
        ):
            return self._pay_button(invoice, locale)
        if choice in INVOICE_CHOICES:
            return Button(label=self._invoice_label(reply, choice, locale), action=choice.value)
        return Button(label=self.choice_label(choice, locale), action=choice.value)

    def _pay_button(self, invoice: InvoiceFacts, locale: str) -> Button:
        """Telegram's "Pay" opens the pay page for exactly what it charges (issue 13): the
        next instalment when the invoice is split, else what is due. An old message's button
        keeps working once paid: the page then says the invoice is paid."""
        instalment = invoice.next_instalment
        if instalment is not None:
            label = self._pay_label(locale, instalment.number, instalment.amount)
            return Button(label=label, url=instalment.pay_url)
        return Button(label=self._pay_label(locale, None, invoice.amount_due), url=invoice.pay_url)

    def _pay_label(self, locale: str, number: int | None, amount: Money) -> str:
        key = (locale, number, amount)
        label = self._pay_labels.get(key)
        if label is None:
            if len(self._pay_labels) >= PAY_LABELS_KEPT:
                self._pay_labels.clear()
            template = self._languages.text(locale).get_template("messages/choices/pay_amount.j2")
            label = self._pay_labels[key] = template.render(n=number, amount=amount).strip()
        return label

    def outbound(
        self,
        reply: Reply,
        *,
        locale: str,
        channel: ChannelName,
        address: str,
        idempotency_key: str,
        stop_to: str | None = None,
    ) -> OutboundMessage:
        choices = reply.choices
        if channel is ChannelName.SMS and all(c in PART_CHOICES for c in choices):
            # "How many payments?" is answered with the number itself; a numbered list of
            # numbers ("1. En 2 fois") would only confuse. The text lists what is allowed.
            choices = ()
        buttons = tuple(self._button(reply, choice, locale, channel) for choice in choices)
        return OutboundMessage(
            channel=channel,
            address=address,
            text=self.text(reply, locale, channel, stop_to),
            idempotency_key=idempotency_key,
            buttons=buttons,
            # On every channel: a message that falls back to WhatsApp may need its template.
            template=self.template_use(reply, locale),
        )
