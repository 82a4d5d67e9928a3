"""The OpenAPI document's collection policy, incoming invoices, own senders and the rest of
the merchant API's routes (flash sales, customers, exports, GDPR, Telegram links), added to
the document by `bot.web.openapi`: every route under /api/v1 is in it
(tests/scenario/test_openapi_routes.py)."""

from __future__ import annotations

from typing import Any

from bot.web.openapi_parts import (
    DATE,
    ERRORS,
    INVOICE_ID,
    NULLABLE_STRING,
    RATE,
    answer,
    get_op,
    obj,
    path_param,
    query,
    ref,
)
from bot.web.policy import REMINDER_FIELDS, REWARD_FIELDS, SECTIONS

SCHEMAS: dict[str, Any] = {}
HHMM = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
WEEKDAY = {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
ZONE = {"type": ["string", "null"], "description": 'IANA time zone, e.g. "Europe/Paris"'}
SCHEMAS["Reward"] = {
    "type": "object",
    "description": "The fast-payment reward: paid in full within `within_hours` of the "
    "invoice, the customer gets it on their NEXT purchase, never off this invoice (that "
    'would be an escompte; every invoice states "Pas d\'escompte pour paiement anticipé"). '
    "`percent` needs `percent` and `code`, `code` needs `code`, `points` needs `points`.",
    "additionalProperties": False,
    "properties": {
        "enabled": {"type": "boolean", "default": False},
        "within_hours": {"type": "integer", "minimum": 1, "maximum": 720, "default": 48},
        "kind": {"enum": ["percent", "code", "points"], "default": "percent"},
        "percent": {"type": ["integer", "null"], "minimum": 1, "maximum": 50},
        "code": {"type": ["string", "null"], "pattern": "^[A-Z0-9][A-Z0-9_-]{2,19}$"},
        "points": {"type": ["integer", "null"], "minimum": 1, "maximum": 100000},
        "streak": {
            "type": "integer",
            "minimum": 0,
            "maximum": 50,
            "default": 3,
            "description": "celebrate from this many invoices in a row paid by their due date "
            "(0: never)",
        },
        "applies_to": {
            "const": "next_purchase",
            "description": '"this_invoice" is refused with a 422 (an escompte)',
        },
    },
}
SCHEMAS["PolicyIn"] = {
    "type": "object",
    "description": "PUT replaces the policy: a section or field left out takes its default. "
    "Reminders and the reward apply to invoices issued afterwards, the rest from the change on.",
    "additionalProperties": False,
    "properties": {
        "reminders": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "days": {
                    "type": "array",
                    "maxItems": 10,
                    "items": {"type": "integer", "minimum": -60, "maximum": 365},
                    "description": "days from the due date, increasing; the last is the "
                    "final notice",
                },
                "send_at": HHMM,
                "opens": HHMM,
                "closes": HHMM,
                "weekdays": {"type": "array", "minItems": 1, "items": WEEKDAY},
                "on_holidays": {"type": "boolean"},
                "timezone": ZONE,
                "max_per_week": {"type": "integer", "minimum": 1, "maximum": 7},
            },
        },
        "pay_later": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"max_days_after_due": {"type": "integer", "minimum": 0, "maximum": 90}},
        },
        "split": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "allowed_parts": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "integer", "minimum": 2, "maximum": 4},
                },
                "minimum": {
                    "type": "object",
                    "description": 'currency code -> minimum total in cents, e.g. {"EUR": 5000}',
                    "additionalProperties": {"type": "integer", "minimum": 0},
                },
                "max_span_days": {"type": "integer", "minimum": 1, "maximum": 90},
            },
        },
        "languages": {"type": "array", "minItems": 1, "items": {"enum": ["fr", "en"]}},
        "reward": ref("Reward"),
    },
}
# GET answers every field (bot.web.policy.document): the parser's own lists.
SCHEMAS["Policy"] = {
    "type": "object",
    "required": [*SECTIONS, "applies_to"],
    "properties": {
        **SCHEMAS["PolicyIn"]["properties"],
        "reminders": {
            **SCHEMAS["PolicyIn"]["properties"]["reminders"],
            "required": list(REMINDER_FIELDS),
        },
        "reward": {**SCHEMAS["Reward"], "required": list(REWARD_FIELDS)},
        "applies_to": {"type": "string", "description": "when a change takes effect"},
    },
}
SCHEMAS["FieldError"] = {
    "type": "object",
    "required": ["error", "field"],
    "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
}
SCHEMAS["Sender"] = {
    "type": "object",
    "required": ["channel", "created_at"],
    "description": "A merchant's own sender; never shows a token or a secret",
    "properties": {
        "channel": {"enum": ["sms", "whatsapp", "telegram"]},
        "created_at": {"type": "string"},
        "from": {**NULLABLE_STRING, "description": "E.164 number or alphanumeric sender ID"},
        "messaging_service_sid": NULLABLE_STRING,
        "reply_number": {
            **NULLABLE_STRING,
            "description": "with an alphanumeric ID: the number replies and STOP go to",
        },
        "bot_id": {"type": "string", "description": "telegram"},
        "webhook_path": {"type": "string", "description": "telegram: its own webhook path"},
        "account_sid": {
            **NULLABLE_STRING,
            "description": "sms/whatsapp: the merchant's own Twilio account, null: the platform's",
        },
        "status_callback_path": {
            "type": "string",
            "description": "with an own Twilio account: where its status callbacks come",
        },
        "content_sids": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "whatsapp with an own account: the templates approved in it",
        },
    },
}
SCHEMAS["ShopConnection"] = {
    "type": "object",
    "required": ["id", "platform", "shop", "channel", "due_days", "created_at", "webhook_path"],
    "description": "A shop whose new orders become invoices; never shows its secret",
    "properties": {
        "id": {"type": "string"},
        "platform": {"enum": ["shopify", "woocommerce"]},
        "shop": {"type": "string", "description": "the shop's domain"},
        "channel": {"enum": ["sms", "whatsapp"]},
        "due_days": {"type": "integer"},
        "created_at": {"type": "string"},
        "webhook_path": {"type": "string"},
        "webhook_url": {"type": "string", "description": "on creation"},
        "secret": {
            "type": "string",
            "description": "on creation, when Facto made the secret: shown this once",
        },
        "refused_orders": {
            "type": "array",
            "items": {"type": "object"},
            "description": "one connection: the last orders refused, with why",
        },
    },
}
CUSTOMER_IN = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "country": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
        "phone": {"type": "string", "maxLength": 32, "description": "E.164, or national"},
        "telegram_chat_id": {"type": "integer", "minimum": 1},
        "locale": {"enum": ["fr", "en", None]},
        "is_business": {"type": "boolean"},
        "address": {"type": "string", "maxLength": 500},
        "siren": {"type": "string"},
        "timezone": {
            **ZONE,
            "maxLength": 64,
            "description": "IANA zone of the customer: reminders at 10:00 and quiet hours in "
            'it, dates in replies ("demain") read in it; default: the policy\'s, else Paris',
        },
    },
}
SCHEMAS["InvoiceIn"] = {
    "type": "object",
    "required": ["customer", "channel", "currency", "due_date", "lines"],
    "additionalProperties": False,
    "properties": {
        "customer": CUSTOMER_IN,
        "channel": {"enum": ["sms", "telegram", "whatsapp"]},
        "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
        "due_date": DATE,
        "lines": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {
                "type": "object",
                "required": ["description", "quantity", "unit_amount", "vat_rate"],
                "additionalProperties": False,
                "properties": {
                    "description": {"type": "string", "minLength": 1, "maxLength": 500},
                    "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000},
                    "unit_amount": {"type": "integer", "minimum": 1},
                    "vat_rate": {"type": "string", "description": 'e.g. "20", "5.5"'},
                    "vat_exemption": {"type": "string", "maxLength": 200},
                },
            },
        },
    },
}
ANY_OBJECT: dict[str, Any] = {"type": "object"}
NOT_JSON = {
    "400": answer(ref("Error"), "Not JSON"),
    "415": answer(ref("Error"), "Not application/json"),
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {**responses, "401": ERRORS["401"]}, **more}


def _listed(summary: str, schema: str) -> dict[str, Any]:
    """A GET of all the merchant's things of one kind, as `{"data": [...]}`."""
    return _op(summary, {"200": answer(obj(data={"type": "array", "items": ref(schema)}), "OK")})


def _create(summary: str, *, created: str = "Created", found: str | None = None) -> dict[str, Any]:
    """A POST of a JSON object that makes one thing (201), or finds it made (200, `found`);
    the handler checks the object itself (422 naming the field)."""
    ok = {"200": answer(ANY_OBJECT, found)} if found else {}
    responses = {**ok, "201": answer(ANY_OBJECT, created), **NOT_JSON, "422": ERRORS["422"]}
    return {"post": _op(summary, responses, requestBody=_body(ANY_OBJECT))}


MORE_PATHS: dict[str, Any] = {
    "/api/v1/policy": {
        "get": _op(
            "The merchant's collection policy: reminder ladder, pay-later window, split "
            "rules, languages, fast-payment reward",
            {"200": answer(ref("Policy"), "OK")},
        ),
        "put": _op(
            "Replace the collection policy (also `python -m bot policy set`)",
            {
                "200": answer(ref("Policy"), "Saved; the policy as it now is"),
                "400": answer(ref("FieldError"), "Not JSON"),
                "415": answer(ref("FieldError"), "Not application/json"),
                "422": answer(ref("FieldError"), "Invalid: `field` names the first problem"),
            },
            requestBody=_body(ref("PolicyIn")),
        ),
    },
    "/api/v1/channels": {
        "get": _listed("The merchant's own senders", "Sender"),
        "post": _op(
            "Register (or replace) the merchant's own sender of one channel: an SMS number, "
            "an alphanumeric ID with `reply_number`, or a Messaging Service; a WhatsApp "
            "number; a Telegram bot (`token`, optional `webhook_secret`), whose webhook is "
            "set before it is kept. Accepts an Idempotency-Key.",
            {
                "201": answer(ref("Sender"), "Registered"),
                "400": answer(ref("Error"), "Not JSON, or an invalid field"),
                "409": answer(
                    ref("Error"),
                    "Another merchant's sender, or no FACTO_SECRETS_KEY for a bot's token",
                ),
                "415": NOT_JSON["415"],
                "422": answer(
                    ref("Error"),
                    "Telegram refused the bot's token, or Twilio the account or the number",
                ),
                "503": answer(ref("Error"), "Temporarily unavailable"),
            },
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["channel"],
                    "properties": {
                        "channel": {"enum": ["sms", "whatsapp", "telegram"]},
                        "from": {"type": "string"},
                        "messaging_service_sid": {"type": "string"},
                        "reply_number": {"type": "string"},
                        "token": {"type": "string", "description": "telegram: the bot token"},
                        "webhook_secret": {"type": "string"},
                        "account_sid": {
                            "type": "string",
                            "description": "sms/whatsapp: the merchant's own Twilio account",
                        },
                        "auth_token": {
                            "type": "string",
                            "description": "with account_sid: sealed, never shown back",
                        },
                        "content_sids": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                            "description": "whatsapp with an own account: every template's "
                            "ContentSid approved in that account",
                        },
                    },
                }
            ),
        ),
    },
    "/api/v1/channels/{channel}": {
        "delete": _op(
            "Go back to the platform's sender on that channel",
            {
                "204": {"description": "Removed"},
                "404": answer(ref("Error"), "No own sender on that channel"),
            },
            parameters=[path_param("channel")],
        ),
    },
    "/api/v1/shops": {
        "get": _listed("The merchant's connected shops", "ShopConnection"),
        "post": _op(
            "Connect a Shopify or WooCommerce shop: its new orders become invoices (also "
            "`python -m bot shop connect`). Accepts an Idempotency-Key.",
            {
                "201": answer(ref("ShopConnection"), "Connected"),
                "400": answer(ref("Error"), "Not JSON, or an invalid field"),
                "409": answer(
                    ref("Error"),
                    "No FACTO_SECRETS_KEY to seal the shop's secret, or a replay kept sealed "
                    "under another key (idempotency_answer_sealed)",
                ),
                "415": NOT_JSON["415"],
            },
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["platform", "shop"],
                    "properties": {
                        "platform": {"enum": ["shopify", "woocommerce"]},
                        "shop": {"type": "string"},
                        "secret": {
                            "type": "string",
                            "description": "the shop's webhook secret (made by Facto if absent)",
                        },
                        "channel": {"enum": ["sms", "whatsapp"]},
                        "due_days": {"type": "integer"},
                    },
                }
            ),
        ),
    },
    "/api/v1/shops/{connection_id}": {
        "get": _op(
            "One shop connection, with the orders it refused",
            {"200": answer(ref("ShopConnection"), "OK"), "404": ERRORS["404"]},
            parameters=[path_param("connection_id")],
        ),
        "delete": _op(
            "Disconnect a shop: its webhooks are refused from now on",
            {"204": {"description": "Disconnected"}, "404": ERRORS["404"]},
            parameters=[path_param("connection_id")],
        ),
    },
    "/api/v1/messages": get_op(
        "Messages given up on (past the retry horizon), newest first, with their fallback",
        obj(messages={"type": "array", "items": ANY_OBJECT}),
        [
            {**query("state", {"enum": ["failed"]}, "failed"), "required": True},
            query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "entries"),
        ],
    ),
    "/api/v1/telegram-links": {
        "post": _op(
            "A t.me deep link: the customer taps it, and their chat id is known",
            {"201": answer(ref("TelegramLink"), "Created")},
        )
    },
    "/api/v1/telegram-links/{token}": get_op(
        "A deep link and the chat id it found (null until the customer taps it)",
        ref("TelegramLink"),
        [path_param("token")],
    ),
    "/api/v1/exports/accounting": {
        "get": _op(
            "Accounting CSV of invoices, credit notes and payments over a period",
            {
                "200": {"description": "CSV", "content": {"text/csv": {"schema": {}}}},
                "400": answer(ref("Error"), "Unknown parameter or bad period"),
                "503": answer(ref("Error"), "Temporarily unavailable"),
            },
            parameters=[query("from", DATE, "first day"), query("to", DATE, "last day")],
        )
    },
    "/api/v1/invoices/{invoice_id}/factur-x": {
        "get": _op(
            "The invoice as Factur-X (CII, EN 16931) XML",
            {
                "200": {"description": "XML", "content": {"application/xml": {"schema": {}}}},
                "404": ERRORS["404"],
            },
            parameters=INVOICE_ID,
        )
    },
    "/api/v1/customers": _create(
        "Create or update a customer of flash sales (with opt-in proof)", found="Updated"
    ),
    "/api/v1/customers/import": {
        "post": _op(
            "Import customers from CSV or JSON lines, with a report line by line",
            {
                "200": answer(ANY_OBJECT, "Imported"),
                "400": answer(ref("Error"), "Not UTF-8"),
                "413": answer(ref("Error"), "Too many lines"),
                "415": answer(ref("Error"), "Neither text/csv nor application/x-ndjson"),
                "422": answer(ANY_OBJECT, "Nothing imported: the report says why"),
            },
            requestBody={
                "required": True,
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            },
        )
    },
    "/api/v1/customers/{customer_id}": {
        "get": _op(
            "One customer",
            {"200": answer(ANY_OBJECT, "OK"), "404": ERRORS["404"]},
            parameters=[path_param("customer_id")],
        ),
        "delete": _op(
            "GDPR erasure: the customer's data goes, invoices are kept (10 years); "
            "customer_id may be an address (sms:+336…, whatsapp:…, telegram:<chat>)",
            {
                "200": answer(obj(erasure=ANY_OBJECT), "Erased"),
                "404": ERRORS["404"],
                "409": answer(
                    ref("Error"), "A conversation of theirs is being handled: ask again shortly"
                ),
            },
            parameters=[path_param("customer_id")],
        ),
    },
    "/api/v1/customers/{customer_id}/export": get_op(
        "GDPR export of one customer (profile, invoices, messages, consents); "
        "customer_id may be an address (sms:+336…, whatsapp:…, telegram:<chat>)",
        ANY_OBJECT,
        [path_param("customer_id")],
    ),
    "/api/v1/audiences": _create("Create an audience (customers by tags and consent)"),
    "/api/v1/audiences/{audience_id}": get_op(
        "One audience", ANY_OBJECT, [path_param("audience_id")]
    ),
    "/api/v1/campaigns": _create(
        "Create a flash-sale campaign (an offer, an audience, its message variants)"
    ),
    "/api/v1/campaigns/{campaign_id}": get_op(
        "A campaign and its live counts", ANY_OBJECT, [path_param("campaign_id")]
    ),
    "/api/v1/campaigns/{campaign_id}/stream": {
        "get": _op(
            "The campaign's counts as server-sent events, every `every` seconds",
            {
                "200": {"description": "text/event-stream"},
                "400": answer(ref("Error"), "Bad `every`"),
                "404": ERRORS["404"],
            },
            parameters=[
                path_param("campaign_id"),
                query("every", {"type": "number", "minimum": 0.2, "maximum": 60}, "seconds"),
            ],
        )
    },
    "/api/v1/campaigns/{campaign_id}/orders": get_op(
        "The campaign's paid orders, each issued as a numbered invoice",
        obj(orders={"type": "array", "items": ANY_OBJECT}),
        [path_param("campaign_id")],
    ),
    "/api/v1/campaigns/{campaign_id}/{action}": {
        "post": _op(
            "Start, pause, resume or cancel a campaign",
            {
                "200": answer(ANY_OBJECT, "Its state now"),
                "404": answer(ref("Error"), "No such campaign or action"),
                "409": answer(ref("Error"), "Not possible in its state"),
            },
            parameters=[
                path_param("campaign_id"),
                {
                    "name": "action",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": ["start", "pause", "resume", "cancel"]},
                },
            ],
        )
    },
    "/api/v1/carts": _create(
        "Record an abandoned cart (relaunched once)", created="Recorded", found="Known already"
    ),
    "/api/v1/carts/{cart_id}": get_op(
        "One cart and its state", ANY_OBJECT, [path_param("cart_id")]
    ),
    "/api/v1/carts/{cart_id}/paid": {
        "post": _op(
            "The cart was bought: no relaunch",
            {"200": answer(ANY_OBJECT, "Its state now"), "404": ERRORS["404"]},
            parameters=[path_param("cart_id")],
        )
    },
}
# The merchant's logo (bot.web.api_logo), as in the dashboard's Settings.
SCHEMAS["Logo"] = {
    **obj(
        version={"type": "string", "description": "changes with the image"},
        width={"type": "integer"},
        height={"type": "integer"},
        content_type={"const": "image/png"},
        bytes={"type": "integer"},
    ),
    "description": "The logo as Facto re-encoded it: a PNG fitting 400 × 160 pixels, shown "
    "at the top of the invoice pages and of the PDFs rendered from now on",
}
LOGO_REFUSED = (
    "Refused, nothing changed: `code` says why (empty, svg, unsupported, not_image, damaged, "
    "dimensions)"
)
MORE_PATHS["/api/v1/logo"] = {
    "get": _op(
        "The merchant's logo",
        {"200": answer(ref("Logo"), "OK"), "404": answer(ref("Error"), "No logo")},
    ),
    "put": _op(
        "Replace the logo: the body is the image itself (PNG, JPEG or WebP, at most 512 KB; "
        "SVG is refused). Its type is read from its bytes, whatever the Content-Type; it is "
        "re-encoded as PNG (no metadata) and shrunk into 400 × 160 pixels",
        {
            "200": answer(ref("Logo"), "Saved; the logo as it now is"),
            "413": answer(ref("Error"), "Larger than 512 KB (`code`: too_big)"),
            "422": answer(ref("Error"), LOGO_REFUSED),
        },
        requestBody={
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
    ),
    "delete": _op(
        "Remove the logo: the merchant's name is shown alone",
        {"204": {"description": "Removed"}, "404": answer(ref("Error"), "No logo")},
    ),
}
SCHEMAS["TelegramLink"] = obj(
    token={"type": "string"},
    url={"type": "string"},
    telegram_chat_id={"type": ["integer", "null"]},
)
INVOICE_CREATE = {
    "summary": "Issue an invoice and send it to the customer (accepts an Idempotency-Key)",
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
        }
    ],
    "requestBody": _body(ref("InvoiceIn")),
    "responses": {
        "201": answer(ref("Invoice"), "Issued"),
        **NOT_JSON,
        "401": ERRORS["401"],
        "409": answer(ref("Error"), "The key is in use, or was used with another body"),
        "422": answer(ref("Error"), "Invalid: `fields` names every problem"),
        "503": answer(ref("Error"), "Temporarily unavailable: see the message"),
    },
}
# Served by the document itself, not part of the API it describes.
SELF = frozenset({"/api/v1/openapi.json", "/api/v1/reference"})


INVOICE_REWARD: dict[str, Any] = {
    "description": "the fast-payment reward it offers (the policy when it was issued); "
    "`granted` (one invoice only): what it gave, null until paid in time",
    "anyOf": [
        {"type": "null"},
        {
            "type": "object",
            "required": ["kind", "within_hours", "deadline", "streak"],
            "properties": {
                "kind": {"enum": ["percent", "code", "points"]},
                "within_hours": {"type": "integer"},
                "deadline": {"type": "string", "format": "date-time"},
                "percent": {"type": "integer"},
                "code": {"type": "string"},
                "points": {"type": "integer"},
                "streak": {"type": "integer"},
                "granted": {
                    "type": ["object", "null"],
                    "required": ["kind", "paid_at"],
                    "properties": {
                        "kind": {"enum": ["percent", "code", "points"]},
                        "paid_at": {"type": "string", "format": "date-time"},
                        "percent": {"type": "integer"},
                        "code": {"type": "string"},
                        "points": {"type": "integer"},
                    },
                },
            },
        },
    ],
}
REWARD_FIGURES: dict[str, Any] = {
    "rewards_offered": {"type": "integer", "description": "invoices offering the reward"},
    "rewards_granted": {"type": "integer", "description": "of those, paid in time"},
    "fast_payment_rate": {**RATE, "description": "rewards granted / offered"},
}


def extend(schemas: dict[str, Any]) -> None:
    """Add these schemas to the document's, and the fields they bring to older ones."""
    schemas |= SCHEMAS
    schemas["Invoice"]["properties"]["customer"]["properties"]["timezone"] = ZONE
    schemas["Invoice"]["properties"]["reward"] = INVOICE_REWARD
    schemas["Figures"]["properties"] |= REWARD_FIGURES
