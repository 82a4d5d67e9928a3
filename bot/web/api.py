"""The merchant API: `/api/v1/...`, authenticated by API key, scoped to that merchant."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from redis.exceptions import RedisError

from bot.engine import issuing, outbox, rewards
from bot.logs import mask_phone
from bot.services import Services, bounded
from bot.settings import SecretBox, SecretsKeyError
from bot.store import delivery_timeline, idempotency, invoices, keys
from bot.store.ledger import load_extras
from bot.store.merchants import Merchant, Prelude, authenticate
from bot.store.payments import credit_notes_of, get_credit_note
from bot.store.seller import SellerIdentityError, seller_snapshot
from bot.web.app_keys import SERVICES
from bot.web.bodies import json_body
from bot.web.desk_settings import BASE as SETTINGS_PAGE
from bot.web.policy import put_policy, read_policy
from bot.web.senders_api import list_senders, register_sender, remove_sender
from bot.web.telegram_links import create_telegram_link, read_telegram_link
from payments.credit_note import CreditNote
from payments.invoice import Invoice, InvoiceStatus, missing_mentions, new_link_token
from payments.invoice_input import InvoiceInputError, InvoiceRequest, parse_invoice_request

log = logging.getLogger(__name__)

ApiHandler = Callable[[web.Request, Services, Merchant], Awaitable[web.Response]]


def setup_api(app: web.Application) -> None:
    # Every POST goes through `_idempotent` (Idempotency-Key); GETs need not.
    app.router.add_post(
        "/api/v1/invoices",
        _authenticated(_idempotent(create_invoice), prelude=issuing.queue_facts),
    )
    app.router.add_get("/api/v1/invoices/{invoice_id}", _authenticated(read_invoice))
    app.router.add_get("/api/v1/conversations", _authenticated(list_conversations))
    app.router.add_get("/api/v1/messages", _authenticated(list_messages))
    app.router.add_get("/api/v1/credit-notes/{credit_note_id}", _authenticated(read_credit_note))
    app.router.add_post(
        "/api/v1/telegram-links", _authenticated(_idempotent(create_telegram_link))
    )
    app.router.add_get("/api/v1/telegram-links/{token}", _authenticated(read_telegram_link))
    app.router.add_get("/api/v1/policy", _authenticated(read_policy))
    app.router.add_post("/api/v1/channels", _authenticated(_idempotent(register_sender)))
    app.router.add_get("/api/v1/channels", _authenticated(list_senders))
    app.router.add_delete("/api/v1/channels/{channel}", _authenticated(remove_sender))
    app.router.add_put("/api/v1/policy", _authenticated(put_policy))


def error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


# The replies to the route's prelude (`_authenticated`), read with the API key.
PRELUDE_REPLIES = web.RequestKey("prelude_replies", list[Any])


def _authenticated(
    handler: ApiHandler, *, prelude: Prelude | None = None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Run `handler` for the API key's merchant; `prelude` queues what the handler reads
    for that merchant in the same round trip as the key (its replies: PRELUDE_REPLIES)."""

    async def wrapper(request: web.Request) -> web.Response:
        services = request.app[SERVICES]
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _unauthorized("missing API key: send 'Authorization: Bearer <key>'")
        try:
            async with bounded(services.settings):
                found = await authenticate(
                    services.bounded_redis, key.strip(), prelude, hints=services.key_hints
                )
        except RedisError:
            log.exception("could not check an API key")
            return error(503, "temporarily unavailable")
        if found is None:
            return _unauthorized("invalid API key")
        if prelude is not None:
            request[PRELUDE_REPLIES] = found.replies
        return await handler(request, services, found.merchant)

    return wrapper


def _unauthorized(message: str) -> web.Response:
    response = error(401, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="facto"'
    return response


async def create_invoice(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    facts = issuing.facts_from(request[PRELUDE_REPLIES])
    # The merchant's own sender on the invoice's channel, if any: fixed on the invoice, so its
    # conversation stays where it began if the merchant changes senders later.
    draft = prepare_draft(services, merchant, body, facts.senders)
    if not isinstance(draft, Invoice):
        coded = {"code": draft.code} if draft.code else {}
        return error(422, draft.message, **coded, fields=draft.fields)
    # The fast-payment reward the merchant offers now: the invoice keeps it (issue 10).
    draft = rewards.stamp_with(draft, facts.policy, services.clock.now())
    view = invoice_view(draft, services)
    view["number"] = invoices.NUMBER_PLACEHOLDER  # the number is allocated at commit
    claim = request.get(IDEMPOTENCY_CLAIM)
    try:
        result = await issuing.issue_and_announce(
            services.redis,
            draft,
            prefix=merchant.invoice_prefix,
            now=services.clock.now(),
            answer=json.dumps(view),
            claim=claim,
            retirer=services.retirer,
            marked=True,
            announce_on=issuing.BoundedClient(
                services.bounded_redis, services.settings.redis_socket_timeout
            ),
        )
    except issuing.NotIssued as exc:
        return _not_issued(exc, keyed=claim is not None)
    if isinstance(result, issuing.Replayed):  # the same key won a race with this request
        return _replayed(result, services.secret_box)
    request[IDEMPOTENCY_SAVED] = True
    return web.Response(status=201, text=result.body, content_type="application/json")


@dataclass(frozen=True, slots=True)
class Invalid:
    """Why an invoice body was refused: a message and the problems field by field."""

    message: str
    fields: list[dict[str, str]]
    code: str | None = None


def prepare_draft(
    services: Services, merchant: Merchant, body: object, own_senders: Mapping[str, str]
) -> Invoice | Invalid:
    """The draft an invoice body describes, checked as the API checks it (also the
    dashboard's form): fields, channel enabled, every mandatory mention (TESTCASES 74).
    `own_senders`: the merchant's own sender per channel (bot.store.senders.merchant_refs)."""
    today = services.clock.now().astimezone(_zone(services)).date()
    try:
        invoice_request = parse_invoice_request(body, today=today)
    except InvoiceInputError as exc:
        return Invalid("invalid invoice", exc.errors)
    if invoice_request.channel == "whatsapp" and not services.settings.whatsapp_enabled:
        fields = [{"field": "channel", "message": "whatsapp is not enabled on this server"}]
        return Invalid("invalid invoice", fields)
    try:
        draft = build_draft(
            invoice_request, merchant, today, sender=own_senders.get(invoice_request.channel)
        )
    except SellerIdentityError as exc:  # the merchant's, not the request's: the owner fixes it
        return Invalid(
            f"the merchant's identity cannot be printed on an invoice ({exc.reason}): nothing "
            f"was issued; an owner corrects it in the dashboard's Settings ({SETTINGS_PAGE})",
            [{"field": f"merchant.{exc.field}", "message": exc.reason}],
            "merchant_identity_invalid",
        )
    missing = missing_mentions(draft.seller, draft.lines)
    if missing:  # an invoice lacking a mandatory mention is never issued
        return Invalid(
            "a mandatory invoice mention is missing: nothing was issued",
            [{"field": field, "message": message} for field, message in missing],
            "mandatory_mention_missing",
        )
    return draft


def _not_issued(exc: issuing.NotIssued, *, keyed: bool) -> web.Response:
    if not exc.unknown:
        return error(503, "temporarily unavailable, nothing was issued")
    advice = (
        "send the same request again with the same Idempotency-Key"
        if keyed
        else "check before retrying, or send requests with an Idempotency-Key"
    )
    return error(503, f"temporarily unavailable, the invoice may have been issued: {advice}")


# --- Idempotency-Key (Stripe semantics; bot/store/idempotency.py) ----------------------------

IDEMPOTENCY_CLAIM = web.RequestKey("idempotency_claim", idempotency.Claim)
IDEMPOTENCY_SAVED = web.RequestKey("idempotency_saved", bool)


def _idempotent(handler: ApiHandler, *, sealed: bool = False) -> ApiHandler:
    """Replay, refuse or lock by the request's Idempotency-Key, then run `handler`.

    A handler that stores its answer atomically with its own writes reads the claim from
    `request[IDEMPOTENCY_CLAIM]` and sets `request[IDEMPOTENCY_SAVED]`; otherwise a 2xx answer
    is stored here, after the handler: `sealed` when the answer shows a secret, which a replay
    must show again (the caller may never have read the first answer) but Redis must not hold
    in clear.
    """

    async def wrapper(
        request: web.Request, services: Services, merchant: Merchant
    ) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return await handler(request, services, merchant)
        if (problem := idempotency.key_problem(key)) is not None:
            return error(400, problem, field="Idempotency-Key")
        body = await json_body(request)
        if isinstance(body, web.Response):
            return body  # nothing ran, nothing to remember
        fingerprint = idempotency.fingerprint(request.method, request.path, body)
        claim = idempotency.Claim.new(merchant.id, key, fingerprint, services.clock.now())
        try:
            verdict, stored = await idempotency.begin(services.redis, claim)
        except RedisError:
            log.exception("could not check an Idempotency-Key")
            await _release(services, claim)
            return error(503, "temporarily unavailable, nothing was done")
        if verdict == "in_use":
            response = error(
                409,
                "another request with this Idempotency-Key is in progress; retry later",
                code="idempotency_key_in_use",
            )
            response.headers["Retry-After"] = "1"
            return response
        if stored is not None:
            replayed = issuing.Replayed(stored, conflict=verdict == "conflict")
            return _replayed(replayed, services.secret_box)
        request[IDEMPOTENCY_CLAIM] = claim
        try:
            response = await handler(request, services, merchant)
            if 200 <= response.status < 300 and not request.get(IDEMPOTENCY_SAVED, False):
                await _save(services, claim, response, sealed=sealed)
            return response
        finally:
            # A handler that stored its answer atomically freed the key with it (issuing).
            if not request.get(IDEMPOTENCY_SAVED, False):
                await _release(services, claim)

    return wrapper


def _replayed(replayed: issuing.Replayed, box: SecretBox) -> web.Response:
    if replayed.conflict:
        return error(
            422,
            "this Idempotency-Key was already used with a different request: "
            "use a new key for a new request",
            code="idempotency_key_reused",
            field="Idempotency-Key",
        )
    stored = replayed.stored
    try:
        body = box.open(stored.body) if stored.sealed else stored.body
    except SecretsKeyError:  # FACTO_SECRETS_KEY changed since: what was done still stands
        return error(
            409,
            "the first answer to this Idempotency-Key was kept sealed and does not open with "
            "this server's FACTO_SECRETS_KEY: the request was done; read its result with GET",
            code="idempotency_answer_sealed",
        )
    response = web.Response(status=stored.status, text=body, content_type="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


async def _save(
    services: Services, claim: idempotency.Claim, response: web.Response, *, sealed: bool
) -> None:
    text = response.text or ""
    try:
        body = services.secret_box.seal(text) if sealed else text
        await idempotency.save(services.redis, claim, response.status, body, sealed=sealed)
    except (RedisError, SecretsKeyError):
        # The handler's work is done and stays done; only its replay is lost.
        log.exception("could not store an idempotent answer")


async def _release(services: Services, claim: idempotency.Claim) -> None:
    try:
        await idempotency.release(services.redis, claim)
    except RedisError:
        # The lock then ends by itself after idempotency.LOCK_FOR (a retry gets 409 until).
        log.warning("could not release an Idempotency-Key lock")


async def read_invoice(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    invoice_id = request.match_info["invoice_id"]
    if len(invoice_id) > 64:
        return error(404, "no such invoice")
    invoice = await invoices.get_invoice(services.redis, merchant.id, invoice_id)
    if invoice is None:
        # Another merchant's invoice is indistinguishable from a missing one (TESTCASES 58).
        return error(404, "no such invoice")
    notes = await credit_notes_of(services.redis, merchant.id, invoice.id)
    view = invoice_view(invoice, services)
    if invoice.reward is not None:  # and what it gave, once paid in time
        granted = (await load_extras(services.redis, merchant.id, invoice.id)).reward
        view["reward"] = {**view["reward"], "granted": granted.to_dict() if granted else None}
    return web.json_response(
        {
            **view,
            "amount_refunded": invoice.amount_refunded,
            "credit_notes": [credit_note_view(note, services) for note in notes],
            "deliveries": await delivery_timeline.read(services.redis, merchant.id, invoice.id),
        }
    )


async def read_credit_note(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    credit_note_id = request.match_info["credit_note_id"]
    note = None
    if len(credit_note_id) <= 64:
        note = await get_credit_note(services.redis, merchant.id, credit_note_id)
    if note is None:  # another merchant's credit note is a missing one (TESTCASES 58)
        return error(404, "no such credit note")
    return web.json_response(credit_note_view(note, services))


def credit_note_view(note: CreditNote, services: Services) -> dict[str, Any]:
    base = services.settings.public_base_url
    return {**note.to_api(), "credit_note_url": f"{base}/a/{note.view_token}"}


CONVERSATION_STATUSES = ("waiting_agent",)
MAX_PAGE = 200


async def list_conversations(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    """The merchant's conversations waiting for a human, oldest first (the agents' queue)."""
    status = request.query.get("status")
    if status not in CONVERSATION_STATUSES:
        return error(
            422,
            "invalid query",
            fields=[
                {
                    "field": "status",
                    "message": f"must be one of: {', '.join(CONVERSATION_STATUSES)}",
                }
            ],
        )
    waiting = await services.redis.zrange(
        keys.waiting_conversations(merchant.id), 0, MAX_PAGE - 1, withscores=True
    )
    items = []
    for conversation, _since in waiting:
        raw = await services.redis.get(keys.handoff(merchant.id, conversation))
        details = json.loads(raw) if raw else {}
        items.append({"conversation": conversation, "status": "waiting_agent", **details})
    return web.json_response({"conversations": items})


MESSAGE_STATES = ("failed",)


async def list_messages(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    """The merchant's messages we gave up on (past the retry horizon), newest first, with the
    fallback queued on the customer's other channel when there was one."""
    state, limit = request.query.get("state"), request.query.get("limit", "50")
    problems = []
    if state not in MESSAGE_STATES:
        problems.append({"field": "state", "message": "must be one of: failed"})
    if not (limit.isascii() and limit.isdigit()) or not 1 <= int(limit) <= MAX_PAGE:
        problems.append({"field": "limit", "message": f"must be an integer from 1 to {MAX_PAGE}"})
    if problems:
        return error(422, "invalid query", fields=problems)
    try:
        records = await outbox.failed_messages(services.redis, merchant.id, int(limit))
        items = [await _message_view(services, record) for record in records]
    except RedisError:
        log.exception("could not list failed messages")
        return error(503, "temporarily unavailable")
    return web.json_response({"messages": items})


async def _message_view(services: Services, record: outbox.OutboxRecord) -> dict[str, Any]:
    # The record names what replaced it: another channel, or a WhatsApp template resend.
    replaced_by = await services.redis.hget(keys.outbox_message(record.key), "fallback")
    # Sent, the fallback's record may be slimmed: its state and conversation are enough.
    fallback = await outbox.load_sent(services.redis, replaced_by or f"{record.key}:fallback")
    return {
        "id": record.key,
        "state": record.state.value,
        "channel": record.message.channel.value,
        "invoice_id": record.invoice_id,
        "text": record.message.text,
        "attempts": record.attempts,
        "last_error": record.last_error,
        "failed_at": record.failed_at,
        "fallback": None
        if fallback is None
        else {
            "channel": fallback.channel.value if fallback.channel else None,
            "state": fallback.state.value,
        },
    }


def build_draft(
    request: InvoiceRequest, merchant: Merchant, today: date, sender: str | None = None
) -> Invoice:
    return Invoice(
        id=invoices.new_invoice_id(),
        merchant_id=merchant.id,
        number=invoices.draft_number(merchant.invoice_prefix, today.year),
        status=InvoiceStatus.OPEN,
        currency=request.currency,
        lines=request.to_lines(),
        amount_paid=0,
        issue_date=today,
        due_date=request.due_date,
        customer=request.to_customer(),
        channel=request.channel,
        pay_token=new_link_token(),
        view_token=new_link_token(),
        seller=seller_snapshot(merchant),
        sender=sender,
    )


def invoice_view(invoice: Invoice, services: Services) -> dict[str, Any]:
    base = services.settings.public_base_url
    totals = invoice.totals
    return {
        "id": invoice.id,
        "number": invoice.number,
        "status": invoice.status.value,
        "currency": invoice.currency,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "channel": invoice.channel,
        "customer": {
            "name": invoice.customer.name,
            "phone": mask_phone(invoice.customer.phone) if invoice.customer.phone else None,
            "telegram_chat_id": invoice.customer.telegram_chat_id,
            "locale": invoice.customer.locale,
            "timezone": invoice.customer.timezone,
        },
        "totals": {
            "net": totals.net,
            "vat": [
                {"rate": str(row.rate), "base": row.base, "amount": row.vat}
                for row in totals.vat_by_rate
            ],
            "vat_total": totals.vat,
            "gross": totals.gross,
        },
        "amount_paid": invoice.amount_paid,
        "amount_due": invoice.amount_due,
        "pay_url": f"{base}/p/{invoice.pay_token}",
        "invoice_url": f"{base}/i/{invoice.view_token}",
        # The fast-payment reward the invoice offers (its policy when issued), or null.
        "reward": invoice.reward.to_dict() if invoice.reward else None,
    }


def _zone(services: Services) -> ZoneInfo:
    # ZoneInfo keeps the zones it built: no file is read again after the first request.
    return ZoneInfo(services.settings.default_timezone)


authenticated = _authenticated  # shared with the dashboard's API routes (bot.web.api_desk)
idempotent = _idempotent  # shared with the shop connections (bot.web.shops)
