"""The merchant API described by OpenAPI 3.1 (`/api/v1/openapi.json`) and its reference page
(`/api/v1/reference`), rendered on the server from the same document: no script, no CDN.

The document is kept true by tests that validate real answers against it
(`tests/scenario/test_openapi.py`) and by schemathesis fuzzing every operation.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.web.app_keys import SERVICES
from bot.web.pages import visitor_locale

REFERENCE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }


NULLABLE_STRING = {"type": ["string", "null"]}
DATE = {"type": "string", "format": "date"}
ERRORS = {
    "401": _json(_ref("Error"), "Missing or invalid API key"),
    "404": _json(_ref("Error"), "No such object (or another merchant's)"),
    "422": _json(_ref("Error"), "Invalid query: `fields` names each problem"),
}
RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}

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
            "conversion": {**RATE, "description": "paid / sent"},
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

INVOICE_ID = [_path("invoice_id")]
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
        "conversion": {**RATE, "description": "paid / sent"},
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


def _get(summary: str, ok: dict[str, Any], params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": params,
            "responses": {"200": _json(ok, "OK"), **ERRORS},
        }
    }


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(props), "properties": props}


# --- Collection policy, invoices in, own senders, and the rest of /api/v1 -----------------

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
        "reward": _ref("Reward"),
    },
}
SCHEMAS["Policy"] = {
    "type": "object",
    "required": ["reminders", "pay_later", "split", "languages", "reward", "applies_to"],
    "properties": {
        **SCHEMAS["PolicyIn"]["properties"],
        "reminders": {
            **SCHEMAS["PolicyIn"]["properties"]["reminders"],
            "required": [
                "days",
                "send_at",
                "opens",
                "closes",
                "weekdays",
                "on_holidays",
                "timezone",
                "max_per_week",
            ],
        },
        "reward": {
            **SCHEMAS["Reward"],
            "required": [
                "enabled",
                "within_hours",
                "kind",
                "percent",
                "code",
                "points",
                "streak",
                "applies_to",
            ],
        },
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
SCHEMAS["Invoice"]["properties"]["customer"]["properties"]["timezone"] = ZONE
SCHEMAS["Invoice"]["properties"]["reward"] = {
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
SCHEMAS["Figures"]["properties"] |= {
    "rewards_offered": {"type": "integer", "description": "invoices offering the reward"},
    "rewards_granted": {"type": "integer", "description": "of those, paid in time"},
    "fast_payment_rate": {**RATE, "description": "rewards granted / offered"},
}
ANY_OBJECT: dict[str, Any] = {"type": "object"}
NOT_JSON = {
    "400": _json(_ref("Error"), "Not JSON"),
    "415": _json(_ref("Error"), "Not application/json"),
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {**responses, "401": ERRORS["401"]}, **more}


MORE_PATHS: dict[str, Any] = {
    "/api/v1/policy": {
        "get": _op(
            "The merchant's collection policy: reminder ladder, pay-later window, split "
            "rules, languages, fast-payment reward",
            {"200": _json(_ref("Policy"), "OK")},
        ),
        "put": _op(
            "Replace the collection policy (also `python -m bot policy set`)",
            {
                "200": _json(_ref("Policy"), "Saved; the policy as it now is"),
                "400": _json(_ref("FieldError"), "Not JSON"),
                "415": _json(_ref("FieldError"), "Not application/json"),
                "422": _json(_ref("FieldError"), "Invalid: `field` names the first problem"),
            },
            requestBody=_body(_ref("PolicyIn")),
        ),
    },
    "/api/v1/channels": {
        "get": _op(
            "The merchant's own senders",
            {"200": _json(_obj(data={"type": "array", "items": _ref("Sender")}), "OK")},
        ),
        "post": _op(
            "Register (or replace) the merchant's own sender of one channel: an SMS number, "
            "an alphanumeric ID with `reply_number`, or a Messaging Service; a WhatsApp "
            "number; a Telegram bot (`token`, optional `webhook_secret`), whose webhook is "
            "set before it is kept. Accepts an Idempotency-Key.",
            {
                "201": _json(_ref("Sender"), "Registered"),
                "400": _json(_ref("Error"), "Not JSON, or an invalid field"),
                "409": _json(
                    _ref("Error"),
                    "Another merchant's sender, or no FACTO_SECRETS_KEY for a bot's token",
                ),
                "415": NOT_JSON["415"],
                "422": _json(_ref("Error"), "Telegram refused the bot's token"),
                "503": _json(_ref("Error"), "Temporarily unavailable"),
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
                "404": _json(_ref("Error"), "No own sender on that channel"),
            },
            parameters=[_path("channel")],
        ),
    },
    "/api/v1/messages": _get(
        "Messages given up on (past the retry horizon), newest first, with their fallback",
        _obj(messages={"type": "array", "items": ANY_OBJECT}),
        [
            {**_query("state", {"enum": ["failed"]}, "failed"), "required": True},
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "entries"),
        ],
    ),
    "/api/v1/telegram-links": {
        "post": _op(
            "A t.me deep link: the customer taps it, and their chat id is known",
            {"201": _json(_ref("TelegramLink"), "Created")},
        )
    },
    "/api/v1/telegram-links/{token}": _get(
        "A deep link and the chat id it found (null until the customer taps it)",
        _ref("TelegramLink"),
        [_path("token")],
    ),
    "/api/v1/exports/accounting": {
        "get": _op(
            "Accounting CSV of invoices, credit notes and payments over a period",
            {
                "200": {"description": "CSV", "content": {"text/csv": {"schema": {}}}},
                "400": _json(_ref("Error"), "Unknown parameter or bad period"),
                "503": _json(_ref("Error"), "Temporarily unavailable"),
            },
            parameters=[_query("from", DATE, "first day"), _query("to", DATE, "last day")],
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
    "/api/v1/customers": {
        "post": _op(
            "Create or update a customer of flash sales (with opt-in proof)",
            {
                "200": _json(ANY_OBJECT, "Updated"),
                "201": _json(ANY_OBJECT, "Created"),
                **NOT_JSON,
                "422": ERRORS["422"],
            },
            requestBody=_body(ANY_OBJECT),
        )
    },
    "/api/v1/customers/import": {
        "post": _op(
            "Import customers from CSV or JSON lines, with a report line by line",
            {
                "200": _json(ANY_OBJECT, "Imported"),
                "400": _json(_ref("Error"), "Not UTF-8"),
                "413": _json(_ref("Error"), "Too many lines"),
                "415": _json(_ref("Error"), "Neither text/csv nor application/x-ndjson"),
                "422": _json(ANY_OBJECT, "Nothing imported: the report says why"),
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
            {"200": _json(ANY_OBJECT, "OK"), "404": ERRORS["404"]},
            parameters=[_path("customer_id")],
        ),
        "delete": _op(
            "GDPR erasure: the customer's data goes, invoices are kept (10 years)",
            {"200": _json(_obj(erasure=ANY_OBJECT), "Erased"), "404": ERRORS["404"]},
            parameters=[_path("customer_id")],
        ),
    },
    "/api/v1/customers/{customer_id}/export": _get(
        "GDPR export of one customer (profile, invoices, messages, consents)",
        ANY_OBJECT,
        [_path("customer_id")],
    ),
    "/api/v1/audiences": {
        "post": _op(
            "Create an audience (customers by tags and consent)",
            {"201": _json(ANY_OBJECT, "Created"), **NOT_JSON, "422": ERRORS["422"]},
            requestBody=_body(ANY_OBJECT),
        )
    },
    "/api/v1/audiences/{audience_id}": _get("One audience", ANY_OBJECT, [_path("audience_id")]),
    "/api/v1/campaigns": {
        "post": _op(
            "Create a flash-sale campaign (an offer, an audience, its message variants)",
            {"201": _json(ANY_OBJECT, "Created"), **NOT_JSON, "422": ERRORS["422"]},
            requestBody=_body(ANY_OBJECT),
        )
    },
    "/api/v1/campaigns/{campaign_id}": _get(
        "A campaign and its live counts", ANY_OBJECT, [_path("campaign_id")]
    ),
    "/api/v1/campaigns/{campaign_id}/stream": {
        "get": _op(
            "The campaign's counts as server-sent events, every `every` seconds",
            {
                "200": {"description": "text/event-stream"},
                "400": _json(_ref("Error"), "Bad `every`"),
                "404": ERRORS["404"],
            },
            parameters=[
                _path("campaign_id"),
                _query("every", {"type": "number", "minimum": 0.2, "maximum": 60}, "seconds"),
            ],
        )
    },
    "/api/v1/campaigns/{campaign_id}/orders": _get(
        "The campaign's paid orders, each issued as a numbered invoice",
        _obj(orders={"type": "array", "items": ANY_OBJECT}),
        [_path("campaign_id")],
    ),
    "/api/v1/campaigns/{campaign_id}/{action}": {
        "post": _op(
            "Start, pause, resume or cancel a campaign",
            {
                "200": _json(ANY_OBJECT, "Its state now"),
                "404": _json(_ref("Error"), "No such campaign or action"),
                "409": _json(_ref("Error"), "Not possible in its state"),
            },
            parameters=[
                _path("campaign_id"),
                {
                    "name": "action",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": ["start", "pause", "resume", "cancel"]},
                },
            ],
        )
    },
    "/api/v1/carts": {
        "post": _op(
            "Record an abandoned cart (relaunched once)",
            {
                "200": _json(ANY_OBJECT, "Known already"),
                "201": _json(ANY_OBJECT, "Recorded"),
                **NOT_JSON,
                "422": ERRORS["422"],
            },
            requestBody=_body(ANY_OBJECT),
        )
    },
    "/api/v1/carts/{cart_id}": _get("One cart and its state", ANY_OBJECT, [_path("cart_id")]),
    "/api/v1/carts/{cart_id}/paid": {
        "post": _op(
            "The cart was bought: no relaunch",
            {"200": _json(ANY_OBJECT, "Its state now"), "404": ERRORS["404"]},
            parameters=[_path("cart_id")],
        )
    },
}
SCHEMAS["TelegramLink"] = _obj(
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
    "requestBody": _body(_ref("InvoiceIn")),
    "responses": {
        "201": _json(_ref("Invoice"), "Issued"),
        **NOT_JSON,
        "401": ERRORS["401"],
        "409": _json(_ref("Error"), "The key is in use, or was used with another body"),
        "422": _json(_ref("Error"), "Invalid: `fields` names every problem"),
        "503": _json(_ref("Error"), "Temporarily unavailable: see the message"),
    },
}
# Served by the document itself, not part of the API it describes.
SELF = frozenset({"/api/v1/openapi.json", "/api/v1/reference"})


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
                    }
                ),
                [
                    _query("from", DATE, "first issue date (default: 30 days before `to`)"),
                    _query("to", DATE, "last issue date (default: today)"),
                ],
            ),
            **WEBHOOK_PATHS,
            **REVIEW_PATHS,
            **MORE_PATHS,
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
