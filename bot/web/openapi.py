"""The merchant API described by OpenAPI 3.1 (`/api/v1/openapi.json`) and its reference page
(`/api/v1/reference`), rendered on the server from the same document: no script, no CDN.

The document is kept true by tests that validate real answers against it
(`tests/scenario/test_openapi.py`) and by schemathesis fuzzing every operation; every route
registered under /api/v1 must be in it (`tests/scenario/test_openapi_routes.py`). The policy,
incoming invoices, own senders and the flash-sale, customer, export and GDPR routes are in
`bot.web.openapi_api`; the shared building blocks in `bot.web.openapi_parts`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.store.campaigns import STATES
from bot.web import openapi_api
from bot.web.app_keys import SERVICES
from bot.web.openapi_api import INVOICE_CREATE, MORE_PATHS
from bot.web.openapi_lists import list_paths, merged
from bot.web.openapi_parts import (
    DATE,
    ERRORS,
    INVOICE_ID,
    NULLABLE_STRING,
    RATE,
)
from bot.web.openapi_parts import answer as _json
from bot.web.openapi_parts import get_op as _get
from bot.web.openapi_parts import obj as _obj
from bot.web.openapi_parts import path_param as _path
from bot.web.openapi_parts import query as _query
from bot.web.openapi_parts import ref as _ref
from bot.web.pages import visitor_locale

REFERENCE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "code": {"type": "string"},
            "fields": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
    "Totals": {
        "type": "object",
        "required": ["net", "vat", "vat_total", "gross"],
        "properties": {
            "net": {"type": "integer"},
            "vat": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["rate", "base", "amount"],
                    "properties": {
                        "rate": {"type": "string"},
                        "base": {"type": "integer"},
                        "amount": {"type": "integer"},
                    },
                },
            },
            "vat_total": {"type": "integer"},
            "gross": {"type": "integer"},
        },
    },
    "Invoice": {
        "type": "object",
        "required": [
            "id",
            "number",
            "status",
            "currency",
            "issue_date",
            "due_date",
            "channel",
            "customer",
            "totals",
            "amount_paid",
            "amount_due",
            "pay_url",
            "invoice_url",
        ],
        "properties": {
            "id": {"type": "string"},
            "number": {"type": "string"},
            "status": {
                "enum": [
                    "open",
                    "processing",
                    "partially_paid",
                    "paid",
                    "disputed",
                    "partially_refunded",
                    "refunded",
                    "void",
                ]
            },
            "currency": {"type": "string"},
            "issue_date": DATE,
            "due_date": DATE,
            "channel": {"enum": ["sms", "whatsapp", "telegram"]},
            "customer": {
                "type": "object",
                "required": ["name", "phone", "telegram_chat_id", "locale"],
                "properties": {
                    "name": {"type": "string"},
                    "phone": {**NULLABLE_STRING, "description": "masked"},
                    "telegram_chat_id": {"type": ["integer", "null"]},
                    "locale": NULLABLE_STRING,
                },
            },
            "totals": _ref("Totals"),
            "amount_paid": {"type": "integer"},
            "amount_due": {"type": "integer"},
            "amount_refunded": {"type": "integer"},
            "pay_url": {"type": "string"},
            "invoice_url": {"type": "string"},
            "credit_notes": {"type": "array", "items": _ref("CreditNote")},
            "deliveries": {"type": "array", "items": {"type": "object"}},
        },
    },
    "InvoicePage": {
        "type": "object",
        "required": ["invoices", "next_cursor"],
        "properties": {
            "invoices": {"type": "array", "items": _ref("Invoice")},
            "next_cursor": {
                **NULLABLE_STRING,
                "description": "pass as `cursor` for the next page; null on the last",
            },
        },
    },
    "CreditNote": {
        "type": "object",
        "required": [
            "id",
            "number",
            "invoice_id",
            "invoice_number",
            "issue_date",
            "currency",
            "reason",
            "totals",
            "source_id",
            "credit_note_url",
        ],
        "properties": {
            "id": {"type": "string"},
            "number": {"type": "string"},
            "invoice_id": {"type": "string"},
            "invoice_number": {"type": "string"},
            "issue_date": DATE,
            "currency": {"type": "string"},
            "reason": {"type": "string"},
            "totals": _ref("Totals"),
            "source_id": {"type": "string"},
            "credit_note_url": {"type": "string"},
        },
    },
    "Payment": {
        "type": "object",
        "required": ["id", "purpose", "credited", "returned", "review", "received_at"],
        "properties": {
            "id": {"type": "string", "description": "the Checkout Session id"},
            "purpose": {"type": "string"},
            "verdict": NULLABLE_STRING,
            "credited": {"type": "integer"},
            "returned": {"type": "integer"},
            "review": {**NULLABLE_STRING, "description": "why money was not counted"},
            "received_at": NULLABLE_STRING,
            "refunds": {"type": "object", "additionalProperties": {"type": "integer"}},
            "disputes": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "TimelineEvent": {
        "type": "object",
        "required": ["at", "kind", "detail"],
        "properties": {
            "at": {"type": "string", "description": "ISO date or date-time"},
            "kind": {
                "enum": [
                    "issued",
                    "sent",
                    "delivered",
                    "read",
                    "clicked",
                    "promise",
                    "plan",
                    "paused",
                    "payment",
                    "review",
                    "refund",
                    "credit_note",
                    "delivery_failed",
                    "message",
                    "reminder",
                    "agent_message",
                    "reply",
                    "handover",
                ]
            },
            "detail": {"type": "string"},
        },
    },
    "Figures": {
        "type": "object",
        "required": [
            "invoices",
            "paid",
            "conversion",
            "invoiced",
            "overdue_amount",
            "unpaid_rate",
            "average_delay_days",
            "median_delay_days",
            "promises",
            "promise_kept_rate",
            "plans",
            "plan_completion_rate",
        ],
        "properties": {
            "invoices": {"type": "integer"},
            "paid": {"type": "integer"},
            "sent": {"type": "integer", "description": "invoices whose message was sent"},
            "conversion": {**RATE, "description": "paid / sent (of the invoices sent)"},
            "invoiced": {"type": "integer"},
            "overdue_amount": {"type": "integer"},
            "unpaid_rate": {**RATE, "description": "overdue amount / invoiced amount"},
            "average_delay_days": {"type": ["number", "null"]},
            "median_delay_days": {"type": ["number", "null"]},
            "promises": {"type": "integer"},
            "promise_kept_rate": RATE,
            "plans": {"type": "integer"},
            "plan_completion_rate": RATE,
        },
    },
}

SCHEMAS["ConversationFigures"] = {
    "type": "object",
    "required": [
        "invoices",
        "handed_over",
        "handover_rate",
        "first_response_seconds_median",
        "paid",
        "messages_per_paid_invoice",
        "sms_segments_per_paid_invoice",
    ],
    "properties": {
        "invoices": {"type": "integer"},
        "handed_over": {"type": "integer"},
        "handover_rate": RATE,
        "first_response_seconds_median": {"type": ["number", "null"]},
        "paid": {"type": "integer"},
        "messages_per_paid_invoice": {"type": ["number", "null"]},
        "sms_segments_per_paid_invoice": {"type": ["number", "null"]},
    },
}
SCHEMAS["CampaignFigures"] = {
    "type": "object",
    "required": [
        "campaign_id",
        "name",
        "state",
        "sent",
        "clicked",
        "paid",
        "revenue",
        "conversion",
    ],
    "properties": {
        "campaign_id": {"type": "string"},
        "name": {"type": "string"},
        "state": {"type": "string"},
        "sent": {"type": "integer"},
        "clicked": {"type": "integer"},
        "paid": {"type": "integer"},
        "revenue": {"type": "integer"},
        "delivered": {"type": "integer"},
        "conversion": {**RATE, "description": "paid / delivered"},
    },
}
EVENT_TYPES = [
    "invoice.paid",
    "invoice.partially_paid",
    "instalment.paid",
    "promise.made",
    "handoff.requested",
    "payment.needs_review",
    "campaign.finished",
]
SCHEMAS["WebhookEndpoint"] = {
    "type": "object",
    "required": ["id", "url", "events", "created_at"],
    "properties": {
        "id": {"type": "string"},
        "url": {"type": "string"},
        "events": {"type": "array", "items": {"enum": EVENT_TYPES}},
        "created_at": {"type": "string"},
        "secret": {
            "type": "string",
            "description": "only in the answer to the registration: sign checks with it",
        },
    },
}
SCHEMAS["WebhookDelivery"] = {
    "type": "object",
    "required": ["at", "event_id", "type", "endpoint", "attempt", "status", "state"],
    "properties": {
        "at": {"type": "string"},
        "delivery": {"type": "string"},
        "event_id": {"type": "string"},
        "type": {"enum": EVENT_TYPES},
        "endpoint": {"type": "string"},
        "url": {"type": "string"},
        "attempt": {"type": "integer"},
        "status": {"type": ["integer", "null"]},
        "error": {"type": "string"},
        "state": {"enum": ["pending", "delivered", "failed"]},
        "next_at": {"type": ["string", "null"]},
    },
}
WEBHOOK_PATHS: dict[str, Any] = {
    "/api/v1/webhook-endpoints": {
        "get": {
            "summary": "The merchant's webhook endpoints",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["endpoints"],
                        "properties": {
                            "endpoints": {"type": "array", "items": _ref("WebhookEndpoint")}
                        },
                    },
                    "OK",
                ),
                "401": ERRORS["401"],
            },
        },
        "post": {
            "summary": "Register an endpoint; events are POSTed to it, signed "
            '(`Facto-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`)',
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["url", "events"],
                            "additionalProperties": False,
                            "properties": {
                                "url": {"type": "string", "format": "uri", "maxLength": 2000},
                                "events": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {"enum": EVENT_TYPES},
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": _json(_ref("WebhookEndpoint"), "Registered; the secret is shown once"),
                "400": _json(_ref("Error"), "Not JSON"),
                "401": ERRORS["401"],
                "409": _json(_ref("Error"), "Too many endpoints"),
                "415": _json(_ref("Error"), "Not application/json"),
                "422": ERRORS["422"],
            },
        },
    },
    "/api/v1/webhook-endpoints/{endpoint_id}": {
        "delete": {
            "summary": "Remove an endpoint (its pending deliveries fail)",
            "parameters": [_path("endpoint_id")],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["deleted"],
                        "properties": {"deleted": {"type": "string"}},
                    },
                    "Removed",
                ),
                "401": ERRORS["401"],
                "404": ERRORS["404"],
            },
        }
    },
    "/api/v1/webhook-deliveries": {
        "get": {
            "summary": "The delivery log, newest first: every attempt",
            "parameters": [
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "entries")
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["deliveries"],
                        "properties": {
                            "deliveries": {"type": "array", "items": _ref("WebhookDelivery")}
                        },
                    },
                    "OK",
                ),
                **ERRORS,
            },
        }
    },
}


SCHEMAS["ReviewAction"] = {
    "type": "object",
    "required": ["action", "payment_id", "invoice_id", "amount", "state"],
    "properties": {
        "action": {"enum": ["apply", "refund", "dismiss"]},
        "payment_id": {"type": "string"},
        "invoice_id": {
            "type": "string",
            "description": "apply: the invoice credited; otherwise the invoice alerted",
        },
        "amount": {"type": "integer", "minimum": 0},
        "state": {
            "enum": ["queued", "done"],
            "description": "queued: counted by the worker a moment later (202)",
        },
    },
}


def _review_action(summary: str, body: dict[str, Any] | None, ok: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [_path("payment_id")],
        "responses": {
            ok: _json(_ref("ReviewAction"), "Done" if ok == "200" else "Queued"),
            "401": ERRORS["401"],
            "404": _json(_ref("Error"), "No such payment to review, or invoice"),
            "409": _json(_ref("Error"), "Already applied or refunded, or does not fit"),
        },
    }
    if body is not None:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": body}},
        }
        operation["responses"] |= {
            "400": _json(_ref("Error"), "Not JSON"),
            "415": _json(_ref("Error"), "Not application/json"),
            "422": ERRORS["422"],
            "502": _json(_ref("Error"), "Stripe could not be reached: try again"),
        }
    return {"post": operation}


SCHEMAS["Voiding"] = {
    "type": "object",
    "required": ["invoice_id", "amount", "partly_paid", "state"],
    "properties": {
        "invoice_id": {"type": "string"},
        "amount": {
            "type": "integer",
            "minimum": 0,
            "description": "what the credit note cancels: all that was due (0: voided before)",
        },
        "partly_paid": {"type": "boolean", "description": "only the unpaid rest is voided"},
        "state": {"enum": ["queued", "done"], "description": "queued: 202, issued a moment later"},
    },
}
VOID_PATH: dict[str, Any] = {
    "post": {
        "summary": "Void an unpaid or partly paid invoice: a credit note (the credit-note "
        "series) cancels what is still due, reminders stop, pay links show it cancelled and "
        "the customer is told in the chat. Idempotent.",
        "parameters": [_path("invoice_id")],
        "responses": {
            "202": _json(_ref("Voiding"), "Queued: the credit note follows"),
            "200": _json(_ref("Voiding"), "Voided already"),
            "401": ERRORS["401"],
            "404": ERRORS["404"],
            "409": _json(_ref("Error"), "Paid, refunded, disputed or processing: not voidable"),
        },
    }
}
REVIEW_PATHS: dict[str, Any] = {
    "/api/v1/invoices/{invoice_id}/void": VOID_PATH,
    "/api/v1/payments/review/{payment_id}/apply": _review_action(
        "Count a payment to review on an invoice of yours (exactly once; the customer gets "
        "the receipt as for any payment)",
        {
            "type": "object",
            "required": ["invoice_id"],
            "additionalProperties": False,
            "properties": {"invoice_id": {"type": "string", "minLength": 1, "maxLength": 64}},
        },
        "202",
    ),
    "/api/v1/payments/review/{payment_id}/refund": _review_action(
        "Refund a payment to review through Stripe (all that is left, or `amount`); the "
        "refund's credit note and message follow its webhook",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {"amount": {"type": "integer", "minimum": 1}},
        },
        "200",
    ),
    "/api/v1/payments/review/{payment_id}/dismiss": _review_action(
        "Take a payment off the review list, leaving the money where it is (audited)",
        None,
        "200",
    ),
}


openapi_api.extend(SCHEMAS)
# Served by the document itself, not part of the API it describes.
SELF = openapi_api.SELF


def document(base_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Facto merchant API",
            "version": "1",
            "description": "Amounts are integers in the currency's minor unit (cents).",
        },
        "servers": [{"url": base_url}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": {
            "/api/v1/invoices": {
                **_get(
                    "List invoices, newest first",
                    _ref("InvoicePage"),
                    [
                        _query("status", SCHEMAS["Invoice"]["properties"]["status"], "status"),
                        _query("channel", {"enum": ["sms", "whatsapp", "telegram"]}, "channel"),
                        _query("customer", {"type": "string", "maxLength": 100}, "name or number"),
                        _query("due_before", DATE, "due on or before"),
                        _query("overdue", {"enum": ["true", "false"]}, "only overdue ones"),
                        _query(
                            "limit", {"type": "integer", "minimum": 1, "maximum": 200}, "page size"
                        ),
                        _query("cursor", {"type": "string"}, "next_cursor of the previous page"),
                    ],
                ),
                "post": INVOICE_CREATE,
            },
            "/api/v1/invoices/{invoice_id}": _get("One invoice", _ref("Invoice"), INVOICE_ID),
            "/api/v1/invoices/{invoice_id}/timeline": _get(
                "What happened to an invoice, in order",
                _obj(
                    invoice_id={"type": "string"},
                    events={"type": "array", "items": _ref("TimelineEvent")},
                ),
                INVOICE_ID,
            ),
            "/api/v1/invoices/{invoice_id}/payments": _get(
                "Payments of an invoice",
                _obj(
                    invoice_id={"type": "string"},
                    payments={"type": "array", "items": _ref("Payment")},
                ),
                INVOICE_ID,
            ),
            "/api/v1/invoices/{invoice_id}/credit-notes": _get(
                "Credit notes of an invoice",
                _obj(
                    invoice_id={"type": "string"},
                    credit_notes={"type": "array", "items": _ref("CreditNote")},
                ),
                INVOICE_ID,
            ),
            "/api/v1/credit-notes/{credit_note_id}": _get(
                "One credit note", _ref("CreditNote"), [_path("credit_note_id")]
            ),
            "/api/v1/payments/review": _get(
                "Payments not counted because their amount or currency differs",
                _obj(
                    payments={
                        "type": "array",
                        "items": _obj(
                            invoice_id={"type": "string"},
                            payment_id={"type": "string"},
                            reason={"type": "string"},
                        ),
                    }
                ),
                [],
            ),
            "/api/v1/conversations": _get(
                "Conversations waiting for a person",
                _obj(conversations={"type": "array", "items": {"type": "object"}}),
                [
                    {
                        **_query("status", {"enum": ["waiting_agent"]}, "waiting_agent"),
                        "required": True,
                    }
                ],
            ),
            "/api/v1/kpis": _get(
                "KPIs over a period of issue dates, overall and per channel",
                _obj(
                    **{
                        "from": DATE,
                        "to": DATE,
                        "figures": {
                            "type": "object",
                            "required": ["all"],
                            "additionalProperties": _ref("Figures"),
                        },
                        "conversations": {
                            "type": "object",
                            "required": ["all"],
                            "additionalProperties": _ref("ConversationFigures"),
                        },
                        "campaigns": {"type": "array", "items": _ref("CampaignFigures")},
                        "delays": {
                            "type": "array",
                            "description": "paid invoices per span of days from issue to payment",
                            "items": _obj(days={"type": "string"}, paid={"type": "integer"}),
                        },
                        "weeks": {
                            "type": "array",
                            "description": "per week (from its Monday) of the period",
                            "items": _obj(
                                week=DATE,
                                issued={"type": "integer"},
                                sent={"type": "integer"},
                                paid={"type": "integer"},
                                conversion={**RATE, "description": "paid / sent"},
                            ),
                        },
                    }
                ),
                [
                    _query("from", DATE, "first issue date (default: 30 days before `to`)"),
                    _query("to", DATE, "last issue date (default: today)"),
                ],
            ),
            **WEBHOOK_PATHS,
            **REVIEW_PATHS,
            **merged(MORE_PATHS, list_paths(STATES)),
        },
    }


def setup_openapi(app: web.Application) -> None:
    app.router.add_get("/api/v1/openapi.json", openapi_json)
    app.router.add_get("/api/v1/reference", reference_page)


async def openapi_json(request: web.Request) -> web.Response:
    base = request.app[SERVICES].settings.public_base_url
    return web.json_response(document(base), headers={"Access-Control-Allow-Origin": "*"})


async def reference_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    doc = document(services.settings.public_base_url)
    env = services.languages.html(visitor_locale(request))
    html = env.get_template("pages/api_reference.html").render(doc=doc)
    return web.Response(
        text=html,
        content_type="text/html",
        headers={"Content-Security-Policy": REFERENCE_CSP},
    )
