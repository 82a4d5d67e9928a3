"""Flash sales in the merchant API: customers (one or an import), audiences, campaigns."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, cast

from aiohttp import web

from bot.engine import campaigns as engine
from bot.engine import carts as cart_engine
from bot.services import Services
from bot.store import campaigns, customers
from bot.store import carts as cart_store
from bot.store.merchants import Merchant
from bot.web.api import _authenticated, error
from bot.web.bodies import json_body

MAX_IMPORT_LINES = 100_000
IMPORT_CHUNK = 1000
ACTIONS = ("start", "pause", "resume", "cancel")
MAX_STREAM_EVENTS = 3600
MAX_ORDERS = 1000


def setup_campaigns(app: web.Application) -> None:
    app.router.add_post("/api/v1/customers", _authenticated(create_customer))
    app.router.add_post("/api/v1/customers/import", _authenticated(import_customers))
    app.router.add_get("/api/v1/customers/{customer_id}", _authenticated(read_customer))
    app.router.add_post("/api/v1/audiences", _authenticated(create_audience))
    app.router.add_get("/api/v1/audiences/{audience_id}", _authenticated(read_audience))
    app.router.add_post("/api/v1/campaigns", _authenticated(create_campaign))
    app.router.add_get("/api/v1/campaigns/{campaign_id}", _authenticated(read_campaign))
    app.router.add_get("/api/v1/campaigns/{campaign_id}/stream", _authenticated(stream))
    app.router.add_get("/api/v1/campaigns/{campaign_id}/orders", _authenticated(list_orders))
    app.router.add_post("/api/v1/campaigns/{campaign_id}/{action}", _authenticated(act))
    app.router.add_post("/api/v1/carts", _authenticated(create_cart))
    app.router.add_get("/api/v1/carts/{cart_id}", _authenticated(read_cart))
    app.router.add_post("/api/v1/carts/{cart_id}/paid", _authenticated(cart_paid))


async def create_customer(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    try:
        customer, opt_in = customers.parse_customer(body, now=services.clock.now())
    except customers.CustomerInputError as exc:
        return error(422, "invalid customer", fields=exc.errors)
    [created] = await customers.save_many(services.redis, merchant.id, [(customer, opt_in)])
    return web.json_response(customer.to_dict(), status=201 if created else 200)


async def read_customer(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    found = await customers.get(services.redis, merchant.id, request.match_info["customer_id"])
    if found is None:
        return error(404, "no such customer")
    return web.json_response(found.to_dict())


async def import_customers(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    """CSV (header row; `tags` separated by '|'; consent_source/consent_words columns) or JSON
    lines; each line is saved or reported with its errors, line numbers from 1."""
    kind = request.content_type
    if kind not in ("text/csv", "application/x-ndjson", "application/jsonl"):
        return error(415, "send text/csv or application/x-ndjson")
    try:
        text = (await request.read()).decode("utf-8-sig")
    except UnicodeDecodeError:
        return error(400, "the body is not UTF-8")
    rows = _csv_rows(text) if kind == "text/csv" else _json_rows(text)
    if isinstance(rows, web.Response):
        return rows
    if len(rows) > MAX_IMPORT_LINES:
        return error(413, f"at most {MAX_IMPORT_LINES} lines per import")
    now = services.clock.now()
    report: list[dict[str, Any]] = []
    good: list[tuple[int, customers.Customer, customers.OptIn | None]] = []
    for line, row in rows:
        if isinstance(row, str):
            report.append(
                {"line": line, "status": "error", "errors": [{"field": "", "message": row}]}
            )
            continue
        try:
            customer, opt_in = customers.parse_customer(row, now=now)
        except customers.CustomerInputError as exc:
            report.append({"line": line, "status": "error", "errors": exc.errors})
            continue
        good.append((line, customer, opt_in))
    for start in range(0, len(good), IMPORT_CHUNK):
        chunk = good[start : start + IMPORT_CHUNK]
        created = await customers.save_many(
            services.redis, merchant.id, [(c, o) for _, c, o in chunk]
        )
        for (line, customer, _), new in zip(chunk, created, strict=True):
            report.append(
                {"line": line, "id": customer.id, "status": "created" if new else "updated"}
            )
    report.sort(key=lambda item: int(item["line"]))
    errors = sum(1 for item in report if item["status"] == "error")
    return web.json_response(
        {"imported": len(good), "errors": errors, "lines": report},
        status=200 if good or not report else 422,
    )


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any] | str]] | web.Response:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "name" not in reader.fieldnames:
        return error(422, "the CSV needs a header row with at least 'name'")
    rows: list[tuple[int, dict[str, Any] | str]] = []
    for number, raw in enumerate(reader, start=2):  # line 1 is the header
        if None in raw:
            rows.append((number, "more fields than the header"))
            continue
        row: dict[str, Any] = {k: v for k, v in raw.items() if v not in (None, "")}
        if "tags" in row:
            row["tags"] = [t.strip() for t in str(row["tags"]).split("|") if t.strip()]
        source, words = row.pop("consent_source", None), row.pop("consent_words", None)
        at = row.pop("consent_at", None)
        if source or words:
            row["consent"] = {"source": source, "words": words, "at": at}
        rows.append((number, row))
    return rows


def _json_rows(text: str) -> list[tuple[int, dict[str, Any] | str]]:
    rows: list[tuple[int, dict[str, Any] | str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            rows.append((number, f"not JSON: {exc}"))
            continue
        rows.append((number, value if isinstance(value, dict) else "must be an object"))
    return rows


async def create_audience(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    try:
        audience = customers.parse_audience(body)
    except customers.CustomerInputError as exc:
        return error(422, "invalid audience", fields=exc.errors)
    await customers.save_audience(services.redis, merchant.id, audience)
    size = len(await customers.members(services.redis, merchant.id, audience))
    return web.json_response({**audience.to_dict(), "size": size}, status=201)


async def read_audience(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    audience = await customers.get_audience(
        services.redis, merchant.id, request.match_info["audience_id"]
    )
    if audience is None:
        return error(404, "no such audience")
    size = len(await customers.members(services.redis, merchant.id, audience))
    return web.json_response({**audience.to_dict(), "size": size})


async def create_campaign(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    now = services.clock.now()
    try:
        campaign = campaigns.parse_campaign(body, merchant_id=merchant.id, now=now)
    except campaigns.CampaignInputError as exc:
        return error(422, "invalid campaign", fields=exc.errors)
    if lint := engine.lint(campaign, merchant.name):
        return error(422, "invalid campaign", fields=lint)
    if await customers.get_audience(services.redis, merchant.id, campaign.audience_id) is None:
        return error(
            422,
            "invalid campaign",
            fields=[{"field": "audience_id", "message": "no such audience"}],
        )
    await campaigns.create(services.redis, campaign, now)
    return await _status(services, merchant, campaign.id, status=201)


async def read_campaign(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    return await _status(services, merchant, request.match_info["campaign_id"])


async def stream(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    """Server-sent events: the campaign's view every `every` seconds (default 1) until it is
    finished (every recipient decided) or cancelled, or the client goes away."""
    campaign_id = request.match_info["campaign_id"]
    found = await campaigns.load(services.redis, merchant.id, campaign_id)
    if found is None:
        return error(404, "no such campaign")
    try:
        every = float(request.query.get("every", "1"))
    except ValueError:
        return error(400, "every: a number of seconds")
    if not 0.2 <= every <= 60:
        return error(400, "every: from 0.2 to 60 seconds")
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    for _ in range(MAX_STREAM_EVENTS):
        found = await campaigns.load(services.redis, merchant.id, campaign_id)
        if found is None:
            break
        body = view(found)
        await response.write(f"event: progress\ndata: {json.dumps(body)}\n\n".encode())
        if finished(body):
            await response.write(b"event: done\ndata: {}\n\n")
            break
        await services.clock.sleep(every)
    await response.write_eof()
    # The API's handlers are typed as answering a Response; a stream is the StreamResponse
    # itself, already sent, which aiohttp accepts as the answer.
    return cast("web.Response", response)


def finished(body: dict[str, Any]) -> bool:
    """Cancelled, or every recipient's message decided (sent, skipped or dropped)."""
    if body["state"] == "cancelled":
        return True
    total = body["recipients"]
    counts = body["counts"]
    decided = counts["sent"] + counts["skipped_no_consent"]
    decided += counts["dropped_cancelled"] + counts["dropped_ended"]
    return total is not None and body["enqueued"] >= total and decided >= total


async def list_orders(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    """Paid orders of a campaign, each linked to its invoice (GET /api/v1/invoices/{id})."""
    campaign_id = request.match_info["campaign_id"]
    if await campaigns.load(services.redis, merchant.id, campaign_id) is None:
        return error(404, "no such campaign")
    limit = request.query.get("limit", "100")
    if not (limit.isascii() and limit.isdigit()) or not 1 <= int(limit) <= MAX_ORDERS:
        fields = [{"field": "limit", "message": f"must be an integer from 1 to {MAX_ORDERS}"}]
        return error(422, "invalid query", fields=fields)
    found = await campaigns.orders(services.redis, merchant.id, campaign_id, int(limit))
    return web.json_response({"orders": found})


async def act(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    action, campaign_id = request.match_info["action"], request.match_info["campaign_id"]
    if action not in ACTIONS:
        return error(404, f"unknown action: use one of {list(ACTIONS)}")
    done, state = await engine.start(
        services.redis, merchant.id, campaign_id, services.clock, action
    )
    if done == -1:
        return error(404, "no such campaign")
    if not done and not (action == "start" and state == "running"):
        return error(409, f"cannot {action} a campaign that is {state}", state=state)
    return await _status(services, merchant, campaign_id)


async def _status(
    services: Services, merchant: Merchant, campaign_id: str, status: int = 200
) -> web.Response:
    found = await campaigns.load(services.redis, merchant.id, campaign_id)
    if found is None:
        return error(404, "no such campaign")
    return web.json_response(view(found), status=status)


def view(found: campaigns.Status) -> dict[str, Any]:
    spec = found.campaign.to_spec()
    counts = found.counts
    variants = {
        v.name: {
            counter: counts.get(f"{v.name}:{counter}", 0)
            for counter in ("sent", "delivered", "clicked", "checkout", "paid", "revenue")
        }
        for v in found.campaign.variants
    }
    return {
        **spec,
        "state": found.state,
        "recipients": found.total,
        "enqueued": found.cursor,
        "counts": {
            "sent": counts.get("sent", 0),
            # From SMS and WhatsApp status callbacks; Telegram reports no delivery.
            "delivered": counts.get("delivered", 0),
            "skipped_no_consent": counts.get("no_consent", 0),
            "dropped_cancelled": counts.get("cancelled", 0),
            "dropped_ended": counts.get("ended", 0),
            "sold_out": counts.get("sold_out", 0),  # taps that found no unit left
            "offer_ended": counts.get("offer_ended", 0),  # taps after the sale ended
            "expired": counts.get("expired", 0),  # checkout sessions left unpaid
            "payment_failed": counts.get("payment_failed", 0),  # delayed debits refused
        },
        "variants": variants,
    }


async def create_cart(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    try:
        cart = cart_store.parse_cart(body)
        created = await cart_engine.record(services.redis, merchant.id, cart, services.clock)
    except cart_store.CartInputError as exc:
        return error(422, "invalid cart", fields=exc.errors)
    except cart_engine.UnknownCustomer:
        fields = [{"field": "customer_id", "message": "no such customer (or no channel)"}]
        return error(422, "invalid cart", fields=fields)
    return await _cart(services, merchant, cart.id, status=201 if created else 200)


async def read_cart(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    return await _cart(services, merchant, request.match_info["cart_id"])


async def cart_paid(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    """The shop says the order is paid: the relaunch, if still to come, is cancelled."""
    before = await cart_store.mark_paid(services.redis, merchant.id, request.match_info["cart_id"])
    if before == "":
        return error(404, "no such cart")
    return await _cart(services, merchant, request.match_info["cart_id"])


async def _cart(
    services: Services, merchant: Merchant, cart_id: str, status: int = 200
) -> web.Response:
    found = await cart_store.load(services.redis, merchant.id, cart_id)
    if found is None:
        return error(404, "no such cart")
    cart, state = found
    totals = await cart_store.counts(services.redis, merchant.id)
    return web.json_response(
        {**cart.to_dict(), "state": state, "merchant_totals": totals}, status=status
    )
