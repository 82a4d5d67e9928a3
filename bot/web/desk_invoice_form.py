"""Creating an invoice from the dashboard: a form whose fields are named after the API's JSON
paths (`customer.name`, `lines.0.unit_amount`...), so the API's own checks
(`bot.web.api.prepare_draft`) name the field each problem belongs to, shown next to it.
Issued like an API invoice (numbered at commit, PDF archived, sent by the worker)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.engine import issuing, rewards
from bot.logs import log_fields
from bot.store import senders
from bot.store.merchants import get_merchant
from bot.web.api import Invalid, prepare_draft
from bot.web.app_keys import SERVICES
from bot.web.console_auth import Agent, action, owner_only, page, redirect, render
from payments.invoice import Invoice

log = logging.getLogger(__name__)

PATH = "/console/dashboard/invoices/new"
LINES = 3
CHANNELS = ("sms", "whatsapp", "telegram")
_EUROS = re.compile(r"(\d{1,9})(?:[.,](\d{1,2}))?")


def setup_invoice_form(app: web.Application) -> None:
    """Registered before `/invoices/{invoice_id}`, which would take "new" for an id."""
    app.router.add_get(PATH, form_page)
    app.router.add_post(PATH, create)


def _page(
    request: web.Request,
    agent: Agent,
    typed: Mapping[str, str],
    errors: Mapping[str, str],
    *,
    status: int = 200,
    message: str = "",
) -> web.Response:
    return render(
        request,
        "dashboard/new_invoice.html",
        status=status,
        agent=agent.user,
        csrf=agent.session.csrf,
        typed=typed,
        errors=errors,
        message=message,
        channels=CHANNELS,
        lines=range(LINES),
    )


@page
async def form_page(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    return _page(request, agent, {"channel": "sms", "currency": "EUR"}, {})


def body_of(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The API's JSON body from the form; problems the form itself can see (amounts typed in
    euros) by field. Empty lines are left out; the API's checks do the rest."""
    channel = form.get("channel", "")
    customer: dict[str, Any] = {"name": form.get("customer.name", "")}
    address = form.get("customer.address_to", "").strip()
    if channel == "telegram":
        customer["telegram_chat_id"] = int(address) if address.isdigit() else address
    else:
        customer["phone"] = address
    if form.get("customer.locale") in ("fr", "en"):
        customer["locale"] = form["customer.locale"]
    errors: dict[str, str] = {}
    lines: list[dict[str, Any]] = []
    for n in range(LINES):
        row = {k: form.get(f"lines.{n}.{k}", "").strip() for k in _LINE_FIELDS}
        if n and not any(row.values()):
            continue
        at = len(lines)
        amount = _EUROS.fullmatch(row["unit_amount"].replace(" ", ""))
        if amount is None:
            errors[f"lines.{at}.unit_amount"] = "an amount in euros, e.g. 12.50"
        quantity = row["quantity"]
        lines.append(
            {
                "description": row["description"],
                "quantity": int(quantity) if quantity.isdigit() else quantity,
                "unit_amount": _cents(amount) if amount else 0,
                "vat_rate": row["vat_rate"],
            }
        )
    body = {
        "customer": customer,
        "channel": channel,
        "currency": form.get("currency", "EUR"),
        "due_date": form.get("due_date", ""),
        "lines": lines,
    }
    return body, errors


_LINE_FIELDS = ("description", "quantity", "unit_amount", "vat_rate")


def _cents(amount: re.Match[str]) -> int:
    return int(amount.group(1)) * 100 + int((amount.group(2) or "0").ljust(2, "0"))


def _by_field(invalid: Invalid) -> dict[str, str]:
    """The API's field paths, as the form names its inputs (the address has one input)."""
    found: dict[str, str] = {}
    for problem in invalid.fields:
        field = problem["field"]
        if field in ("customer.phone", "customer.telegram_chat_id", "customer"):
            field = "customer.address_to"
        found.setdefault(field, problem["message"])
    return found


@action
async def create(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    typed = {k: str(v)[:500] for k, v in (await request.post()).items() if k != "csrf"}
    merchant = await get_merchant(services.redis, agent.user.merchant_id)
    if merchant is None:
        raise web.HTTPNotFound(text="no such merchant")
    body, errors = body_of(typed)
    # Issued from the merchant's own sender on its channel, as through the API.
    own = await senders.merchant_refs(services.redis, merchant.id)
    draft = prepare_draft(services, merchant, body, own)
    if not isinstance(draft, Invoice):
        errors = {**_by_field(draft), **errors}
        return _page(request, agent, typed, errors, status=422, message=draft.message)
    if errors:
        return _page(request, agent, typed, errors, status=422, message="invalid invoice")
    draft = await rewards.stamp(services.redis, draft, services.clock.now())  # as the API does
    try:
        result = await issuing.issue_and_announce(
            services.redis,
            draft,
            prefix=merchant.invoice_prefix,
            now=services.clock.now(),
            answer="{}",  # no idempotency key here: the answer is never replayed
            claim=None,
            retirer=services.retirer,
        )
    except issuing.NotIssued:
        message = "temporarily unavailable: check the invoice list before trying again"
        return _page(request, agent, typed, {}, status=503, message=message)
    assert not isinstance(result, issuing.Replayed)  # only a claim can replay
    invoice_id = result.draft.id  # the committed invoice's, without building it again
    log.info("invoice created from the dashboard", extra=log_fields(invoice=invoice_id))
    return redirect(f"/console/dashboard/invoices/{invoice_id}")
